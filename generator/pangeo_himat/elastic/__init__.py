"""The worker controller: elastic Dask workers and idle sleep.

Every module here except local_backend imports only the standard library and its siblings
(botocore lazily, in aws.py), so the chart ships them as they are (files/controller/).
"""

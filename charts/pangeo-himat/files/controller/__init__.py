"""The worker controller: elastic Dask workers and idle sleep.

Every module here except local_backend imports only the standard library and its siblings
(botocore lazily, in aws.py), so the chart ships them as they are. This directory
(charts/pangeo-himat/files/controller/) is the one copy: the generator's package
`pangeo_himat.controller` is a symbolic link to it (generator/pangeo_himat/controller), and the
wheel takes the files through that link.
"""

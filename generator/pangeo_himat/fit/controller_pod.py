"""The worker controller pod's requests, shared by its Helm values and the stable node's fit.

Peak RSS measured on Python 3.11 with resource.getrusage: 22 MiB with the controller's modules
imported, 44 MiB once botocore 1.41 has built its autoscaling and EKS clients (idle sleep).
128 MiB leaves room for the image's larger Python 3.12 and its site-packages. Reading two HTTP
APIs every 5 s needs little CPU.
"""

from __future__ import annotations

REQUESTS_CPU_MILLICORES = 50
REQUESTS_MEMORY_MIB = 128

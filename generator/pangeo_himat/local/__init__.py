"""`himat local`: the same JupyterLab + Dask stack on this machine, from the same settings.

A Dask scheduler, one supervised `dask worker` process per worker pod (shaped like the
cluster's pods) and JupyterLab with a random token, every listener on 127.0.0.1. Kernels see
DASK_SCHEDULER_ADDRESS, so `Client()` connects with no arguments here as on the cluster. A
process that dies is restarted; Ctrl-C or SIGTERM stops every process started, and their
children. Modules: shape (sizing, spill room), ports, argv (command lines), plan (checks before
start), stack (processes), run (start, readiness, supervision), command (the click command).
"""

from pangeo_himat.local.command import local_command
from pangeo_himat.local.shape import LocalShape, local_shape

__all__ = ["LocalShape", "local_command", "local_shape"]

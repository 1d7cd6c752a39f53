"""pangeo-himat: one settings file -> an EKS Pangeo cluster, or the same stack locally."""

__version__ = "0.1.0"

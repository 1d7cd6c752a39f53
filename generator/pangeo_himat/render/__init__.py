"""Render: the eksctl ClusterConfig, the Helm values (chart, controller, backup, autoscaler,
termination handler), the IAM policies, the resource names, and the one writer of files.
Imports `settings` and `fit`.
"""

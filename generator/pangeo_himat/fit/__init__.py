"""Fit: what the chosen machines hold (kubelet arithmetic, system pods), its tables, and the
loader that refuses a settings file whose workers do not fit. Imports only `settings`.
"""

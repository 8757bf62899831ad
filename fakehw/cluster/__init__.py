"""Real Kubernetes clusters for testing DRA drivers against fakehw's emulated hardware.

A cluster comes from a *provider* picked by name (`local`: the control plane, containerd and
kubelets as host processes built from source; `kind`: kind's node containers). Providers share
one small protocol (providers/base.py), so tests and the CLI do not care which one runs.
"""

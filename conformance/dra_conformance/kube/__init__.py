"""The cluster tier's view of Kubernetes: namespaces, claims and pods, created and awaited.

Thin on purpose: the tests say what must happen; this module only knows how to ask the API
server and how long to wait.
"""

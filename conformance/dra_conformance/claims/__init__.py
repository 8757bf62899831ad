"""ResourceClaims for the socket tier: written where the driver reads them, allocated by us.

    model.py      ClaimRef, AllocatedDevice, OpaqueConfig: what a test asks for
    store.py      the ClaimStore protocol (the seam tests and vendors can replace)
    apiserver.py  the real thing: claims in an API server, allocation written to their status

The kubelet sends the driver only namespace, name and UID; the driver reads the rest from the
API server. So a socket-level test needs allocated claims where the driver looks, but no
scheduler: the store writes ``status.allocation`` itself, as the kubelet's own e2e_node tests
do. Where claims come from is injectable, so the same tests run against an API server or
against whatever a test harness wires to the driver.
"""

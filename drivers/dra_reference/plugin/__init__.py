"""The reference driver's kubelet plugin: registration, DRA and health gRPC services.

What the rest of the driver implements (``seams``): a ``Preparer`` for per-kind preparation,
a ``HealthSource`` of device health snapshots and, in production, the ``KubeClaimSource``
(``claims``). ``server.PluginServer`` ties them to the kubelet's sockets. This package imports
gRPC only in ``server`` and the servicers, so the seams and the model stay cheap to import.
"""

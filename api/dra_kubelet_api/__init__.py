"""The kubelet's DRA plugin API (registration, DRA, health) as gRPC stubs.

Neither the driver nor the conformance suite: the wire contract both speak, so the suite can
drive any driver's sockets as the kubelet does without importing the reference driver.
"""

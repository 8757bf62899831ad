"""The generated protobuf modules of the kubelet's plugin API, one name per API version.

Both sides of the wire import them from here: the reference driver serves them, the
conformance suite calls them as the kubelet does. Keeping one copy matters beyond tidiness:
protobuf's descriptor pool is process-wide, so two copies of the same ``package`` would clash
as soon as a test loads the driver and the suite together.

They are imported by name on purpose: mypy then treats them as plain modules and never reads
the generated code (which is not written for ``--strict``). Their messages are still checked
where it matters, on the wire, by the socket tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType


def _generated(name: str) -> ModuleType:
    return importlib.import_module(f"dra_kubelet_api._generated.{name}")


# Messages and service descriptors (``_pb2``).
REGISTRATION = _generated("pluginregistration_v1_pb2")
DRA_V1 = _generated("dra_v1_pb2")
DRA_V1BETA1 = _generated("dra_v1beta1_pb2")
HEALTH_V1 = _generated("dra_health_v1_pb2")
HEALTH_V1ALPHA1 = _generated("dra_health_v1alpha1_pb2")

# protoc's client stubs and servicer base classes (``_pb2_grpc``), for callers that want them.
REGISTRATION_GRPC = _generated("pluginregistration_v1_pb2_grpc")
DRA_V1_GRPC = _generated("dra_v1_pb2_grpc")
DRA_V1BETA1_GRPC = _generated("dra_v1beta1_pb2_grpc")
HEALTH_V1_GRPC = _generated("dra_health_v1_pb2_grpc")
HEALTH_V1ALPHA1_GRPC = _generated("dra_health_v1alpha1_pb2_grpc")

# By the version leaf the kubelet uses in GetInfo's supported_versions ("v1.DRAPlugin").
DRA: Mapping[str, ModuleType] = {"v1": DRA_V1, "v1beta1": DRA_V1BETA1}
HEALTH: Mapping[str, ModuleType] = {"v1": HEALTH_V1, "v1alpha1": HEALTH_V1ALPHA1}
DRA_GRPC: Mapping[str, ModuleType] = {"v1": DRA_V1_GRPC, "v1beta1": DRA_V1BETA1_GRPC}
HEALTH_GRPC: Mapping[str, ModuleType] = {"v1": HEALTH_V1_GRPC, "v1alpha1": HEALTH_V1ALPHA1_GRPC}

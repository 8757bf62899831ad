"""The generated protobuf modules the plugin speaks, one name per API version.

They are imported by name on purpose: mypy then treats them as plain modules and never reads
the generated code (which is not written for ``--strict``). Their messages are still checked
where it matters, on the wire, by the socket tests.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def _generated(name: str) -> ModuleType:
    return importlib.import_module(f"dra_reference._generated.{name}")


REGISTRATION = _generated("pluginregistration_v1_pb2")
DRA_V1 = _generated("dra_v1_pb2")
DRA_V1BETA1 = _generated("dra_v1beta1_pb2")
HEALTH_V1 = _generated("dra_health_v1_pb2")
HEALTH_V1ALPHA1 = _generated("dra_health_v1alpha1_pb2")

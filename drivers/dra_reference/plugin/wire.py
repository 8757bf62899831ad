"""The generated protobuf modules the plugin speaks, one name per API version.

They live in the shared ``dra_kubelet_api`` package, which the conformance suite uses too;
this module keeps the names the plugin imports.
"""

from __future__ import annotations

from dra_kubelet_api.wire import DRA_V1, DRA_V1BETA1, HEALTH_V1, HEALTH_V1ALPHA1, REGISTRATION

__all__ = ["DRA_V1", "DRA_V1BETA1", "HEALTH_V1", "HEALTH_V1ALPHA1", "REGISTRATION"]

"""Cluster tests share one session cluster from fakehw's pytest fixtures (two nodes here)."""

from __future__ import annotations

import os

import pytest

from fakehw.cluster.pytest_fixtures import (  # noqa: F401  (fixtures and hook re-exported)
    fakehw_cluster,
    fakehw_kubectl,
    pytest_addoption,
    settings_from,
)
from fakehw.cluster.settings import ClusterSettings


@pytest.fixture(scope="session")
def fakehw_cluster_settings(pytestconfig: pytest.Config) -> ClusterSettings:
    """Two nodes unless told otherwise (every test also covers a worker node), each with its
    own fake hardware: the edge node (with the camera) and a two-socket mixed node."""
    settings = settings_from(pytestconfig)
    if os.environ.get("FAKEHW_NODES") or pytestconfig.getoption("fakehw_nodes", default=None):
        return settings
    return ClusterSettings(name=settings.name, nodes=2, feature_gates=settings.feature_gates,
                           hardware_profiles=HARDWARE_PROFILES)


HARDWARE_PROFILES = {0: "edge-node", 1: "numa-mixed"}

"""Shared fixtures: a materialized tree per test, removed afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.tree.state import TreeState

CLUSTER_OPT_IN = "FAKEHW_CLUSTER_TESTS"


def pytest_configure(config: pytest.Config) -> None:
    """pytester (a plugin pytest ships but does not load by default) runs the conformance
    suite in-process in the suite's own tests and against broken drivers."""
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Cluster tests start real clusters (root, ~1 GiB, a minute): run them only when asked,
    with `-m cluster` or FAKEHW_CLUSTER_TESTS=1 (as `make test` does), never as a side effect
    of a plain `pytest`."""
    if "cluster" in (config.option.markexpr or "") or os.environ.get(CLUSTER_OPT_IN):
        return
    skip = pytest.mark.skip(
        reason=f"starts real clusters: run with -m cluster or {CLUSTER_OPT_IN}=1")
    for item in items:
        if item.get_closest_marker("cluster"):
            item.add_marker(skip)


@pytest.fixture
def edge_tree(tmp_path: Path) -> Iterator[TreeState]:
    state = machine.up(profiles.load("edge-node"), tmp_path / "hw", "node-a")
    yield state
    machine.down(Path(state.root))


@pytest.fixture
def sriov_tree(tmp_path: Path) -> Iterator[TreeState]:
    state = machine.up(profiles.load("gpu-sriov-8"), tmp_path / "hw", "node-b")
    yield state
    machine.down(Path(state.root))

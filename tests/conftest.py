"""Shared fixtures: a materialized tree per test, removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakehw import machine, profiles
from fakehw.tree.state import TreeState


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

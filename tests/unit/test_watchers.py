"""A process watching the tree with inotify sees every hot-plug and health change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inotify_simple import INotify, flags

from fakehw import machine
from fakehw.tree.state import TreeState

pytestmark = pytest.mark.unit


@pytest.fixture
def inotify() -> Iterator[INotify]:
    with INotify() as watcher:
        yield watcher


def events(watcher: INotify) -> set[tuple[str, str]]:
    seen = set()
    for event in watcher.read(timeout=1000, read_delay=50):
        for flag in flags.from_mask(event.mask):
            seen.add((event.name, flag.name))
    return seen


def test_unplug_and_replug_are_seen_on_the_bus(edge_tree: TreeState, inotify: INotify) -> None:
    root = Path(edge_tree.root)
    gpu = edge_tree.find("gpu0")
    inotify.add_watch(root / "sys/bus/pci/devices", flags.CREATE | flags.DELETE)
    inotify.add_watch(root / "dev/dri", flags.CREATE | flags.DELETE)
    machine.unplug(root, "gpu0")
    seen = events(inotify)
    assert (gpu.bdf, "DELETE") in seen
    assert (str(gpu.attributes["card"]), "DELETE") in seen
    machine.replug(root, "gpu0")
    seen = events(inotify)
    assert (gpu.bdf, "CREATE") in seen
    assert (str(gpu.attributes["renderNode"]), "CREATE") in seen


def test_device_directory_moves_out_in_one_step(edge_tree: TreeState, inotify: INotify) -> None:
    root = Path(edge_tree.root)
    gpu = edge_tree.find("gpu1")
    port = (root / "sys" / gpu.sysfs).parent
    inotify.add_watch(port, flags.MOVED_FROM | flags.DELETE | flags.DELETE_SELF)
    machine.unplug(root, "gpu1")
    assert events(inotify) == {(gpu.bdf, "MOVED_FROM"), (gpu.bdf, "ISDIR")}


def test_health_change_is_a_modification(edge_tree: TreeState, inotify: INotify) -> None:
    root = Path(edge_tree.root)
    gpu = edge_tree.find("gpu0")
    inotify.add_watch(root / "sys" / gpu.sysfs, flags.CLOSE_WRITE)
    machine.set_health(root, "gpu0", healthy=False, reason="test")
    assert ("aer_dev_fatal", "CLOSE_WRITE") in events(inotify)

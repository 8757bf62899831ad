"""A node's emulated hardware as a whole: materialize, inspect, hot-plug, fail and remove.

``up`` writes the whole tree into a staging folder beside the target and moves it into place
only when every device was written, so an error leaves nothing behind. Hot-unplug moves a
device's directory out in one ``rename`` (its subtree vanishes at once), then removes the
links and device nodes recorded as pointing at it; replug does the reverse.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fakehw.devices import DeviceKind
from fakehw.devices.cxl import CXLKind
from fakehw.devices.fpga import FPGAKind
from fakehw.devices.gpu import GPUKind
from fakehw.devices.pci import write_bus
from fakehw.devices.system import write_system
from fakehw.errors import DeviceStateError, TreeError
from fakehw.profiles.model import HardwareProfile
from fakehw.tree import state as tree_state
from fakehw.tree.state import TreeState
from fakehw.tree.topology import Topology
from fakehw.tree.writer import DeviceRecord, TreeWriter, make_link, make_node, remove_quietly

KINDS: dict[str, DeviceKind] = {"gpu": GPUKind(), "fpga": FPGAKind(), "cxl": CXLKind()}
TOP_FOLDERS = ("sys", "dev", "proc")


def up(profile: HardwareProfile, root: Path, node_name: str = "") -> TreeState:
    """Materialize ``profile`` under ``root`` (``root/sys``, ``root/dev``, ``root/proc``)."""
    root = root.absolute()
    seed = node_name or profile.name
    existing = [name for name in (*TOP_FOLDERS, tree_state.STATE_DIR) if (root / name).exists()]
    if existing:
        raise TreeError(f"{root} already holds {', '.join(existing)}; remove it with "
                        f"'fakehw down --root {root}' or choose another --root")
    created_root = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".fakehw-staging-{os.getpid()}"
    try:
        records = _write_tree(TreeWriter(staging), profile, seed)
        for name in TOP_FOLDERS:
            if (staging / name).exists():
                (staging / name).rename(root / name)
        state = TreeState(root=str(root), profile=profile.source, node_name=seed,
                          devices=records, created_root=created_root)
        tree_state.save(state)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for name in (*TOP_FOLDERS, tree_state.STATE_DIR):
            shutil.rmtree(root / name, ignore_errors=True)
        if created_root:
            shutil.rmtree(root, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return state


def _write_tree(tree: TreeWriter, profile: HardwareProfile, seed: str) -> list[DeviceRecord]:
    tree.sys.mkdir(parents=True)
    tree.dev.mkdir(parents=True)
    write_system(tree, profile)
    write_bus(tree)
    topo = Topology(profile)
    for root in profile.pcie_roots:
        tree.mkdir(f"devices/pci0000:{root * 0x10:02x}")
    records: list[DeviceRecord] = []
    for kind in KINDS.values():
        records += kind.write_all(tree, topo, profile, seed)
    return records


def down(root: Path) -> bool:
    """Remove the tree at ``root``; return False when there was none (a second down is fine)."""
    root = root.absolute()
    try:
        state = tree_state.load(root)
    except TreeError:
        return False
    from fakehw.daemon import stop_processes  # noqa: PLC0415 (cycle: the daemon uses machine)

    stop_processes(state)
    for name in (*TOP_FOLDERS, tree_state.STATE_DIR):
        shutil.rmtree(root / name, ignore_errors=True)
    if state.created_root:
        shutil.rmtree(root, ignore_errors=True)
    return True


def _stash(state: TreeState, record: DeviceRecord) -> Path:
    return tree_state.state_dir(Path(state.root)) / "unplugged" / record.name


def unplug(root: Path, name: str) -> list[str]:
    """Hot-unplug a device and everything hanging off it; return the names removed."""
    with tree_state.locked(root):
        state = tree_state.load(root)
        record = state.find(name)
        if record.name in state.unplugged:
            raise DeviceStateError(f"{record.name} is already unplugged; "
                                   f"replug it with 'fakehw replug {record.name}'")
        if record.parent and record.parent in state.unplugged:
            raise DeviceStateError(f"{record.name} went with {record.parent}, already unplugged")
        if record.parent:
            raise DeviceStateError(f"{record.name} belongs to {record.parent} and cannot be "
                                   f"unplugged alone; unplug {record.parent}")
        removed = [*state.children(record.name), record]
        for each in removed:
            _remove(state, each)
            state.unplugged.append(each.name)
        _after_hotplug(root, state)
        tree_state.save(state)
        return [each.name for each in removed]


def _remove(state: TreeState, record: DeviceRecord) -> None:
    root = Path(state.root)
    stash = _stash(state, record)
    stash.parent.mkdir(parents=True, exist_ok=True)
    os.rename(root / "sys" / record.sysfs, stash)
    for link in record.links:
        remove_quietly(root / "sys" / link)
    for node in record.dev_nodes:
        remove_quietly(root / "dev" / node.path)
    for link in record.dev_links:
        remove_quietly(root / "dev" / link)


def replug(root: Path, name: str) -> list[str]:
    """Plug a device back in (with its VFs); return the names restored."""
    with tree_state.locked(root):
        state = tree_state.load(root)
        record = state.find(name)
        if record.name not in state.unplugged:
            raise DeviceStateError(f"{record.name} is plugged in; unplug it first")
        if record.parent:
            raise DeviceStateError(f"{record.name} comes back with {record.parent}; "
                                   f"replug {record.parent}")
        restored = [record, *state.children(record.name)]
        for each in restored:
            _restore(state, each)
            state.unplugged.remove(each.name)
        _after_hotplug(root, state)
        tree_state.save(state)
        return [each.name for each in restored]


def _restore(state: TreeState, record: DeviceRecord) -> None:
    root = Path(state.root)
    os.rename(_stash(state, record), root / "sys" / record.sysfs)
    for link, target in record.links.items():
        make_link(root / "sys", link, target)
    for node in record.dev_nodes:
        make_node(root / "dev", node, os.geteuid() == 0)
    for link, target in record.dev_links.items():
        make_link(root / "dev", link, target)


def _after_hotplug(root: Path, state: TreeState) -> None:
    tree = TreeWriter(root)
    for kind in KINDS.values():
        kind.after_hotplug(tree, state)


def _kind(record: DeviceRecord) -> DeviceKind:
    """``gpu-vf`` and ``cxl-region`` records belong to the ``gpu`` and ``cxl`` kinds."""
    return KINDS[record.kind.split("-")[0]]


def set_health(root: Path, name: str, healthy: bool, reason: str = "") -> None:
    """Show a device as failed (or recovered) the way its kernel driver would."""
    with tree_state.locked(root):
        state = tree_state.load(root)
        record = state.find(name)
        if record.name in state.unplugged:
            raise DeviceStateError(f"{record.name} is unplugged; replug it before changing health")
        _kind(record).show_health(TreeWriter(root), record, healthy, reason or "injected fault")
        if healthy:
            state.unhealthy.pop(record.name, None)
        else:
            state.unhealthy[record.name] = reason or "injected fault"
        tree_state.save(state)

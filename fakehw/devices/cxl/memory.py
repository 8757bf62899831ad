"""Onlined CXL memory: memory blocks and the CPU-less NUMA node ``kmem`` brings online.

Each expander's window is its own proximity domain, so its regions' memory, once ``kmem``
onlines it (movable, as CXL setups configure memory hot-plug), becomes NUMA node
``targetNode``: ``devices/system/node/nodeN`` with an empty ``cpulist``, a ``meminfo`` and
``memoryM`` links to the memory blocks. daxctl counts those blocks (their ``phys_index``
within the device's range, their ``state``) to print ``online_memblocks``.

Everything here is derived from the plugged regions by ``sync_memory``, so region creation,
deletion and hot-plug all reach the same tree. Changes go in an order with no dangling link:
a node folder appears before the blocks that link to it, and the node's links to blocks are
added after the blocks and removed before them.
"""

from __future__ import annotations

from fakehw.devices.cxl.layout import MEMORY_BLOCK, WINDOW_BASE, RegionLayout
from fakehw.devices.cxl.sysfs import aside, move_in, remove_folder, replace_attr, staged, unlink
from fakehw.devices.system import (
    DISTANCE_CXL,
    DISTANCE_LOCAL,
    DISTANCE_REMOTE,
    span,
    write_numa_node,
)
from fakehw.tree.writer import TreeWriter, make_link

NODE = "devices/system/node"
MEMORY = "devices/system/memory"
FIRST_BLOCK = WINDOW_BASE // MEMORY_BLOCK  # blocks below belong to boot memory, not to us


def write_memory_root(tree: TreeWriter) -> None:
    """The memory hot-plug files of a kernel that onlines new memory as movable."""
    tree.attr(f"{MEMORY}/block_size_bytes", f"{MEMORY_BLOCK:x}")
    tree.attr(f"{MEMORY}/auto_online_blocks", "online_movable", mode=0o644)
    tree.mkdir("bus/memory/devices")
    tree.attr("bus/memory/uevent", "", mode=0o200)


def sync_memory(tree: TreeWriter, regions: list[RegionLayout], cxl_nodes: list[int]) -> None:
    """Make the blocks and CXL nodes exactly those of ``regions``: removals, then additions."""
    wanted = {block: r.memdev.target_node for r in regions for block in r.blocks}
    sizes: dict[int, int] = {}
    for region in regions:
        sizes[region.memdev.target_node] = sizes.get(region.memdev.target_node, 0) + region.size
    cpu_nodes = parse_span((tree.sys / NODE / "has_cpu").read_text())
    present = _present_blocks(tree)
    staying = [n for n in cxl_nodes if n in sizes and (tree.sys / _node(n)).exists()]
    _summary(tree, cpu_nodes, staying, cxl_nodes)
    for block, node in present.items():
        if wanted.get(block) != node:
            unlink(tree.sys, f"{_node(node)}/memory{block}")
            unlink(tree.sys, f"bus/memory/devices/memory{block}")
            remove_folder(tree, f"{MEMORY}/memory{block}")
    for node in cxl_nodes:
        if node not in sizes:
            remove_folder(tree, _node(node))
    for node, size in sizes.items():
        _node_folder(tree, node, size)
    for block, node in wanted.items():
        if block not in present or present[block] != node:
            _block(tree, block, node)
            make_link(tree.sys, f"{_node(node)}/memory{block}", f"{MEMORY}/memory{block}")
    _summary(tree, cpu_nodes, sorted(sizes), cxl_nodes)


def _node(node: int) -> str:
    return f"{NODE}/node{node}"


def _present_blocks(tree: TreeWriter) -> dict[int, int]:
    """Our memory blocks now in the tree, with the node each one's ``nodeN`` link names."""
    found: dict[int, int] = {}
    folder = tree.sys / MEMORY
    for entry in folder.glob("memory[0-9]*"):
        block = int(entry.name.removeprefix("memory"))
        if block >= FIRST_BLOCK:
            links = [p.name for p in entry.glob("node[0-9]*")]
            found[block] = int(links[0].removeprefix("node")) if links else -1
    return found


def _node_folder(tree: TreeWriter, node: int, size: int) -> None:
    """A CPU-less node holding ``size`` bytes: created whole, or its ``meminfo`` replaced."""
    path = _node(node)
    if (tree.sys / path).exists():
        with aside(tree) as writer:
            write_numa_node(writer, node, "", size // 1024)
            move_in(tree, writer, f"{path}/meminfo")
        return
    with staged(tree, path) as writer:
        write_numa_node(writer, node, "", size // 1024)


def _block(tree: TreeWriter, block: int, node: int) -> None:
    """One online, movable memory block of node ``node``."""
    path = f"{MEMORY}/memory{block}"
    with staged(tree, path) as writer:
        for name, value, mode in (
                ("phys_index", f"{block:08x}", 0o444), ("state", "online", 0o644),
                ("online", 1, 0o644), ("valid_zones", "Movable", 0o444),
                ("removable", 1, 0o444), ("phys_device", 0, 0o444), ("uevent", "", 0o644)):
            writer.attr(f"{path}/{name}", value, mode=mode)
        writer.link(f"{path}/subsystem", "bus/memory", owned=False)
        writer.link(f"{path}/node{node}", _node(node), owned=False)
    make_link(tree.sys, f"bus/memory/devices/memory{block}", path)


def _summary(tree: TreeWriter, cpu_nodes: list[int], cxl_online: list[int],
             cxl_nodes: list[int]) -> None:
    """The node lists and distances, as ``system.write_numa_summary`` writes them, but each
    file replaced in one rename because the tree is live; CXL windows are always possible."""
    online = sorted(set(cpu_nodes) | set(cxl_online))
    for node in online:
        distances = [DISTANCE_LOCAL if other == node else
                     DISTANCE_REMOTE if node in cpu_nodes and other in cpu_nodes else
                     DISTANCE_CXL for other in online]
        replace_attr(tree, f"{_node(node)}/distance", " ".join(map(str, distances)))
    for name, nodes in (("online", online), ("possible", sorted({*cpu_nodes, *cxl_nodes})),
                        ("has_cpu", cpu_nodes), ("has_memory", online),
                        ("has_normal_memory", cpu_nodes)):
        replace_attr(tree, f"{NODE}/{name}", span(nodes))


def parse_span(text: str) -> list[int]:
    """``0-2,5`` -> ``[0, 1, 2, 5]``, the inverse of ``system.span``."""
    numbers: list[int] = []
    for part in filter(None, text.strip().split(",")):
        low, _, high = part.partition("-")
        numbers += range(int(low), int(high or low) + 1)
    return numbers

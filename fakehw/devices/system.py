"""CPUs and NUMA nodes under ``devices/system``: what topology-aware software reads first."""

from __future__ import annotations

from fakehw.profiles.model import HardwareProfile
from fakehw.tree.writer import TreeWriter

DISTANCE_LOCAL, DISTANCE_REMOTE, DISTANCE_CXL = 10, 21, 30
NODE_MEMORY_KB = 16 * 1024 * 1024


def span(numbers: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``0-2,5``, the kernel's list format."""
    parts: list[str] = []
    for number in sorted(numbers):
        if parts and "-" not in parts[-1] and int(parts[-1]) == number - 1:
            parts[-1] = f"{parts[-1]}-{number}"
        elif parts and "-" in parts[-1] and int(parts[-1].split("-")[1]) == number - 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{number}"
        else:
            parts.append(str(number))
    return ",".join(parts)


def write_system(tree: TreeWriter, profile: HardwareProfile) -> None:
    cpus = profile.numa_nodes * profile.cpus_per_node
    every = span(list(range(cpus)))
    for name in ("online", "possible", "present"):
        tree.attr(f"devices/system/cpu/{name}", every)
    for cpu in range(cpus):
        node = cpu // profile.cpus_per_node
        tree.attr(f"devices/system/cpu/cpu{cpu}/online", 1, mode=0o644)
        tree.attr(f"devices/system/cpu/cpu{cpu}/topology/physical_package_id", node)
        tree.attr(f"devices/system/cpu/cpu{cpu}/topology/core_id", cpu % profile.cpus_per_node)
    for node in range(profile.numa_nodes):
        first = node * profile.cpus_per_node
        write_numa_node(tree, node, span(list(range(first, first + profile.cpus_per_node))),
                        NODE_MEMORY_KB)
    write_numa_summary(tree, cpu_nodes=list(range(profile.numa_nodes)),
                       memory_nodes=list(range(profile.numa_nodes)))


def write_numa_node(tree: TreeWriter, node: int, cpulist: str, memory_kb: int) -> None:
    """One NUMA node; an empty ``cpulist`` makes the CPU-less node CXL memory becomes."""
    folder = f"devices/system/node/node{node}"
    tree.attr(f"{folder}/cpulist", cpulist)
    tree.attr(f"{folder}/meminfo", "\n".join([
        f"Node {node} MemTotal:       {memory_kb} kB",
        f"Node {node} MemFree:        {memory_kb} kB",
        f"Node {node} MemUsed:        0 kB",
    ]))


def write_numa_summary(tree: TreeWriter, cpu_nodes: list[int], memory_nodes: list[int]) -> None:
    every = sorted(set(cpu_nodes) | set(memory_nodes))
    for node in every:
        cpulist = (tree.sys / f"devices/system/node/node{node}/cpulist").read_text().strip()
        distances = [DISTANCE_LOCAL if other == node else
                     DISTANCE_REMOTE if cpulist and other in cpu_nodes else DISTANCE_CXL
                     for other in every]
        tree.attr(f"devices/system/node/node{node}/distance", " ".join(map(str, distances)))
    for name, nodes in (("online", every), ("possible", every), ("has_cpu", cpu_nodes),
                        ("has_memory", memory_nodes), ("has_normal_memory", cpu_nodes)):
        tree.attr(f"devices/system/node/{name}", span(nodes))

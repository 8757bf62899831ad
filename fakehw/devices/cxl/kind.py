"""CXL type-3 memory expanders as a device kind: PCI function, memdev, ports and regions.

Each expander is three kinds of record so that hot-unplug, which only renames one folder per
record away and drops the links it owns, takes everything the kernel would remove: the PCI
function with its memdev (``cxlN``), the endpoint port under the host bridge's port
(``cxlN-endpoint``) and each region under its root decoder (``regionM``), the latter two
children of the first. What is derived from them (decoders, NUMA nodes) is brought in line by
``after_hotplug``.
"""

from __future__ import annotations

from dataclasses import replace

from fakehw.devices.cxl.layout import HDM_DECODERS, MAX_EXPANDERS, WINDOW_BASE, MemdevLayout
from fakehw.devices.cxl.memdev import memdev_record, place, serial_number, write_memdev
from fakehw.devices.cxl.memory import write_memory_root
from fakehw.devices.cxl.ops import add_region, plan_region
from fakehw.devices.cxl.ports import write_endpoint, write_host_bridge, write_root
from fakehw.devices.cxl.sync import ENDPOINT, MEMDEV, sync
from fakehw.devices.cxl.sysfs import discard_scratch, write_buses
from fakehw.devices.pci import write_aer, write_function
from fakehw.errors import ProfileError
from fakehw.profiles.model import HardwareProfile
from fakehw.tree.state import TreeState
from fakehw.tree.topology import Topology
from fakehw.tree.writer import DeviceRecord, TreeWriter


def write_expander(tree: TreeWriter, topo: Topology, mem: MemdevLayout,
                   seed: str) -> tuple[DeviceRecord, DeviceRecord]:
    """Host bridge, root port, function, memdev and endpoint; returns memdev and endpoint
    records (the host bridge and root port stay when the expander is unplugged)."""
    root_port, fn = place(topo, mem)
    mem = replace(mem, pci_path=fn.path)
    tree.mkdir(mem.host_bridge_dir)
    write_host_bridge(tree, mem, root_port)
    write_function(tree, root_port)
    serial = serial_number(seed, mem.record)
    record = memdev_record(fn, root_port, mem, serial)
    with tree.owned_by(record):
        write_memdev(tree, fn, mem, serial)
    endpoint = DeviceRecord(name=f"{mem.record}-endpoint", kind=ENDPOINT,
                            sysfs=mem.endpoint_path, parent=mem.record,
                            attributes={"endpoint": mem.endpoint, "memdev": mem.memdev})
    with tree.owned_by(endpoint):
        write_endpoint(tree, mem, root_port)
    return record, endpoint


def _check(profile: HardwareProfile) -> None:
    if len(profile.cxl) > MAX_EXPANDERS:
        raise ProfileError(profile.source, "spec.cxlMemory", f"{len(profile.cxl)} expanders, "
                           f"but each needs its own CXL host bridge and there are "
                           f"{MAX_EXPANDERS}", f"use at most {MAX_EXPANDERS}")
    for index, cxl in enumerate(profile.cxl):
        if len(cxl.regions) > HDM_DECODERS:
            raise ProfileError(profile.source, f"spec.cxlMemory[{index}].regions",
                               f"{len(cxl.regions)} regions, but an expander has "
                               f"{HDM_DECODERS} HDM decoders", f"use at most {HDM_DECODERS}")


class CXLKind:
    name = "cxl"

    def write_all(self, tree: TreeWriter, topo: Topology, profile: HardwareProfile,
                  seed: str) -> list[DeviceRecord]:
        """Every expander, then the regions the profile starts with, in profile order."""
        if not profile.cxl:
            return []
        _check(profile)
        write_buses(tree)
        write_root(tree)
        write_memory_root(tree)
        records: list[DeviceRecord] = []
        start = WINDOW_BASE
        for index, cxl in enumerate(profile.cxl):
            mem = MemdevLayout(index=index, count=len(profile.cxl), numa_node=cxl.numa_node,
                               target_node=profile.numa_nodes + index,
                               capacity=cxl.ram_bytes, window_start=start)
            records += write_expander(tree, topo, mem, seed)
            start += cxl.ram_bytes
        sync(tree, records, [])
        for memdev, cxl in zip([r for r in records if r.kind == MEMDEV], profile.cxl,
                               strict=True):
            for size in cxl.regions:
                add_region(tree, records, [], plan_region(records, memdev, size))
        return records

    def show_health(self, tree: TreeWriter, record: DeviceRecord, healthy: bool,
                    reason: str) -> None:
        """A fatal AER error on the function, after which ``cxl_pci``'s error handler
        releases the memdev from ``cxl_mem`` (its ``driver`` link goes; ``cxl list`` shows
        it only with ``-i``); recovery binds it again."""
        if record.kind != MEMDEV:
            return  # regions and endpoints fail with their memdev, not on their own
        write_aer(tree, record.sysfs, fatal=0 if healthy else 1)
        mem = MemdevLayout.of(record)
        bound = f"bus/cxl/drivers/cxl_mem/{mem.memdev}"
        if healthy:
            tree.link(f"{mem.memdev_path}/driver", "bus/cxl/drivers/cxl_mem", owned=False)
            with tree.owned_by(record):
                tree.link(bound, mem.memdev_path)
        else:
            for path in (f"{mem.memdev_path}/driver", bound):
                (tree.sys / path).unlink(missing_ok=True)
            record.links.pop(bound, None)

    def after_hotplug(self, tree: TreeWriter, state: TreeState) -> None:
        """Reset or recommit decoders and offline or online memory after devices came or
        went; machine.unplug/replug call it under the lock, after their renames."""
        try:
            sync(tree, state.devices, state.unplugged)
        finally:
            discard_scratch(tree)

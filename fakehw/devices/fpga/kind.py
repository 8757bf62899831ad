"""Intel DFL FPGA cards as a device kind: the PCI function and the DFL tree under it.

``dfl-pci`` binds the PCI function (class ``0x120000``, which Intel's plugin insists on) and
registers a base FPGA region under it, ``<BDF>/fpga_region/regionN``; the FME and port feature
devices hang off that region. OPAE and Intel's plugin start from ``class/fpga_region``, follow
the region's link back to the PCI function and read ``vendor``, ``device`` and ``class``
there, so the whole DFL tree sits inside the function's folder and moves with it on unplug.
"""

from __future__ import annotations

from fakehw.devices.fpga.devmodel import class_device, write_dfl_bus
from fakehw.devices.fpga.fme import write_fme, write_fme_errors
from fakehw.devices.fpga.layout import FPGALayout
from fakehw.devices.fpga.port import write_port, write_port_errors
from fakehw.devices.pci import PCIFunction, bdf, write_aer, write_function
from fakehw.profiles.catalog import FPGA_CLASS
from fakehw.profiles.model import FPGA, HardwareProfile
from fakehw.tree.state import TreeState
from fakehw.tree.topology import Topology
from fakehw.tree.writer import DeviceRecord, TreeWriter

BAR0_SIZE = 512 << 10  # FME and port register space, one BAR as on the PAC cards
CATFATAL_ERROR = 0x800  # one catastrophic-error bit of RAS_CATFAT_ERROR
PORT_ERROR = 0x1  # one bit of the port error register


def write_fpga(tree: TreeWriter, topo: Topology, fpga: FPGA, index: int) -> DeviceRecord:
    """Write one card behind its own root port; return its record, owning every outside link."""
    port, bus = topo.root_port(fpga.pcie_root, fpga.numa_node)
    write_function(tree, port)
    model = fpga.model
    fn = PCIFunction(
        bdf=bdf(bus, 0), parent=port.path, vendor=model.vendor_id, device=model.device_id,
        pci_class=FPGA_CLASS, driver=model.kernel_driver, numa_node=fpga.numa_node,
        cpulist=topo.cpulist(fpga.numa_node), iommu_group=topo.next_iommu_group(),
        subsystem_vendor=model.vendor_id, subsystem_device=model.device_id,
        bar_base=0x2000000000 + (bus << 24), bar_sizes=(BAR0_SIZE,),
    )
    layout = FPGALayout(index, fn.path)
    record = DeviceRecord(name=f"fpga{index}", kind="fpga", sysfs=fn.path, bdf=fn.bdf,
                          attributes=_attributes(fpga, layout, port))
    with tree.owned_by(record):
        write_function(tree, fn)
        class_device(tree, layout.region_path, fn.path)
        write_fme(tree, layout, fpga)
        write_port(tree, layout, fpga)
    return record


def _attributes(fpga: FPGA, layout: FPGALayout, port: PCIFunction) -> dict[str, str | int | bool]:
    model = fpga.model
    return {
        "vendor": f"0x{model.vendor_id:04x}", "device": f"0x{model.device_id:04x}",
        "model": model.key, "product": model.product, "driver": model.kernel_driver,
        "compatId": fpga.compat_id, "afuId": fpga.afu_id, "numaNode": fpga.numa_node,
        "pcieRoot": port.parent.removeprefix("devices/"), "region": layout.region,
        "compatRegion": layout.compat_region, "fme": layout.fme, "port": layout.port,
        "fpgaManager": layout.manager, "bridge": layout.bridge,
        "programmingMillis": round(fpga.programming_seconds * 1000),
    }


class FPGAKind:
    name = "fpga"

    def write_all(self, tree: TreeWriter, topo: Topology, profile: HardwareProfile,
                  seed: str) -> list[DeviceRecord]:
        if profile.fpgas:
            write_dfl_bus(tree)
        return [write_fpga(tree, topo, fpga, index) for index, fpga in enumerate(profile.fpgas)]

    def show_health(self, tree: TreeWriter, record: DeviceRecord, healthy: bool,
                    reason: str) -> None:
        """What dfl-fme-error.c and dfl-afu-error.c show after a catastrophic error, plus the
        fatal AER count the PCIe link reports; all cleared when healthy again."""
        layout = FPGALayout.of(record)
        write_aer(tree, record.sysfs, fatal=0 if healthy else 1)
        write_fme_errors(tree, layout, catfatal=0 if healthy else CATFATAL_ERROR)
        write_port_errors(tree, layout, errors=0 if healthy else PORT_ERROR)

    def after_hotplug(self, tree: TreeWriter, state: TreeState) -> None:
        """A card carries all its DFL parts with it; nothing shared needs changing."""

"""GPUs: a PCI function with DRM card and render nodes, SR-IOV VFs and vendor extras.

What each vendor's software reads differs: Intel's tools read ``lmem_total_bytes`` on the DRM
card, amdgpu exposes ``mem_info_vram_total`` on the PCI device and a KFD topology, NVIDIA a
``/proc/driver/nvidia`` information file. Each GPU gets its own vendor's set.
"""

from __future__ import annotations

import uuid

from fakehw.devices.pci import PCIFunction, bdf, write_aer, write_function
from fakehw.profiles.model import GPU, HardwareProfile
from fakehw.tree.state import TreeState
from fakehw.tree.topology import Topology
from fakehw.tree.writer import DeviceRecord, TreeWriter

DRM_MAJOR = 226
RENDER_BASE = 128
NVIDIA_MAJOR = 195
VF_OFFSET = 1  # first VF's routing-ID offset from its PF, as on Intel Flex


def stable_uuid(seed: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fakehw://{seed}/{name}"))


def write_gpu(tree: TreeWriter, topo: Topology, gpu: GPU, index: int,
              seed: str) -> list[DeviceRecord]:
    """Write one GPU (and its VFs); return its record followed by one record per VF."""
    port, bus = topo.root_port(gpu.pcie_root, gpu.numa_node)
    write_function(tree, port)
    model = gpu.model
    pf = PCIFunction(
        bdf=bdf(bus, 0), parent=port.path, vendor=model.vendor_id, device=model.device_id,
        pci_class=model.pci_class, driver=model.kernel_driver, numa_node=gpu.numa_node,
        cpulist=topo.cpulist(gpu.numa_node), iommu_group=topo.next_iommu_group(),
        subsystem_vendor=model.subsystem_vendor_id, subsystem_device=model.subsystem_device_id,
        bar_base=0x4000000000 + (bus << 36), bar_sizes=(16 << 20, gpu.memory_bytes),
    )
    name = f"gpu{index}"
    serial = stable_uuid(seed, name)
    record = DeviceRecord(name=name, kind="gpu", sysfs=pf.path, bdf=pf.bdf, attributes={
        "vendor": f"0x{model.vendor_id:04x}", "device": f"0x{model.device_id:04x}",
        "model": model.key, "product": model.product, "driver": model.kernel_driver,
        "memory": gpu.memory_bytes, "numaNode": gpu.numa_node, "uuid": serial,
        "pcieRoot": port.parent.removeprefix("devices/"), "sriovTotalVFs": model.max_vfs,
        "sriovNumVFs": gpu.sriov_vfs,
    })
    with tree.owned_by(record):
        write_function(tree, pf)
        _write_drm(tree, topo, pf, record, gpu.memory_bytes)
        _write_vendor_extras(tree, pf, gpu, record, serial)
        if model.max_vfs:
            _write_sriov_caps(tree, pf, gpu)
    vfs = [_write_vf(tree, topo, pf, gpu, parent=record, number=n) for n in range(gpu.sriov_vfs)]
    return [record, *vfs]


def _write_drm(tree: TreeWriter, topo: Topology, fn: PCIFunction, record: DeviceRecord,
               memory: int) -> None:
    card = topo.next_minor("drm")
    render = RENDER_BASE + card
    for node, minor in ((f"card{card}", card), (f"renderD{render}", render)):
        folder = f"{fn.path}/drm/{node}"
        tree.attr(f"{folder}/dev", f"{DRM_MAJOR}:{minor}")
        tree.attr(f"{folder}/uevent", "\n".join(
            [f"MAJOR={DRM_MAJOR}", f"MINOR={minor}", f"DEVNAME=dri/{node}", "DEVTYPE=drm_minor"]))
        tree.link_as_written(f"{folder}/device", f"../../../{fn.bdf}")
        tree.link(f"{folder}/subsystem", "class/drm", owned=False)
        tree.link(f"class/drm/{node}", folder)
        tree.chardev(f"dri/{node}", DRM_MAJOR, minor)
    if fn.vendor == 0x8086:
        tree.attr(f"{fn.path}/drm/card{card}/lmem_total_bytes", memory)
    tree.dev_link(f"dri/by-path/pci-{fn.bdf}-card", f"dri/card{card}")
    tree.dev_link(f"dri/by-path/pci-{fn.bdf}-render", f"dri/renderD{render}")
    record.attributes.update({"card": f"card{card}", "renderNode": f"renderD{render}"})


def _write_vendor_extras(tree: TreeWriter, fn: PCIFunction, gpu: GPU, record: DeviceRecord,
                         serial: str) -> None:
    driver = gpu.model.kernel_driver
    if driver == "amdgpu":
        unique = serial.replace("-", "")[:16]
        for name, value in (("mem_info_vram_total", gpu.memory_bytes), ("mem_info_vram_used", 0),
                            ("mem_info_gtt_total", gpu.memory_bytes // 2),
                            ("product_name", gpu.model.product), ("unique_id", unique)):
            tree.attr(f"{fn.path}/{name}", value)
        node = f"class/kfd/kfd/topology/nodes/{record.name.removeprefix('gpu')}"
        tree.attr(f"{node}/properties", "\n".join([
            "simd_count 416", f"drm_render_minor {str(record.attributes['renderNode'])[7:]}",
            f"unique_id {int(unique, 16)}", f"location_id {int(fn.bdf.split(':')[1], 16) << 8}",
            "domain 0", f"local_mem_size {gpu.memory_bytes}"]))
    elif driver == "nvidia":
        minor = int(record.name.removeprefix("gpu"))
        record.attributes["nvidiaMinor"] = minor
        info = tree.root / "proc/driver/nvidia/gpus" / fn.bdf / "information"
        info.parent.mkdir(parents=True, exist_ok=True)
        info.write_text(
            f"Model: \t\t {gpu.model.product}\nIRQ:   \t\t 0\nGPU UUID: \t GPU-{serial}\n"
            f"Video BIOS: \t 92.00.45.00.03\nBus Type: \t PCIe\nDMA Size: \t 47 bits\n"
            f"DMA Mask: \t 0x7fffffffffff\nBus Location: \t {fn.bdf}\nDevice Minor: \t {minor}\n")
        tree.chardev(f"nvidia{minor}", NVIDIA_MAJOR, minor)
        if not (tree.dev / "nvidiactl").exists():
            tree.chardev("nvidiactl", NVIDIA_MAJOR, 255)


def _write_sriov_caps(tree: TreeWriter, fn: PCIFunction, gpu: GPU) -> None:
    for name, value, mode in (("sriov_totalvfs", gpu.model.max_vfs, 0o444),
                              ("sriov_numvfs", gpu.sriov_vfs, 0o644),
                              ("sriov_offset", VF_OFFSET, 0o444), ("sriov_stride", 1, 0o444),
                              ("sriov_vf_device", f"{gpu.model.vf_device_id:x}", 0o444),
                              ("sriov_drivers_autoprobe", 1, 0o644)):
        tree.attr(f"{fn.path}/{name}", value, mode=mode)


def _write_vf(tree: TreeWriter, topo: Topology, pf: PCIFunction, gpu: GPU, *,
              parent: DeviceRecord, number: int) -> DeviceRecord:
    bus = int(pf.bdf.split(":")[1], 16)
    vf = PCIFunction(
        bdf=bdf(bus, VF_OFFSET + number), parent=pf.parent, vendor=pf.vendor,
        device=gpu.model.vf_device_id, pci_class=pf.pci_class, driver=pf.driver,
        numa_node=pf.numa_node, cpulist=pf.cpulist, iommu_group=topo.next_iommu_group(),
        subsystem_vendor=pf.subsystem_vendor, subsystem_device=pf.subsystem_device,
        bar_base=pf.bar_base + ((number + 1) << 32), bar_sizes=(16 << 20,),
    )
    memory = gpu.memory_bytes // max(gpu.sriov_vfs, 1)
    record = DeviceRecord(name=f"{parent.name}-vf{number}", kind="gpu-vf", sysfs=vf.path,
                          bdf=vf.bdf, parent=parent.name, attributes={
                              **{k: v for k, v in parent.attributes.items()
                                 if k in ("vendor", "model", "product", "driver", "numaNode",
                                          "pcieRoot")},
                              "device": f"0x{vf.device:04x}", "memory": memory,
                              "physfn": pf.bdf, "vfIndex": number})
    with tree.owned_by(record):
        write_function(tree, vf)
        tree.link(f"{vf.path}/physfn", pf.path, owned=False)
        _write_drm(tree, topo, vf, record, memory)
    with tree.owned_by(parent):
        tree.link(f"{pf.path}/virtfn{number}", vf.path, owned=False)
    return record


class GPUKind:
    name = "gpu"

    def write_all(self, tree: TreeWriter, topo: Topology, profile: HardwareProfile,
                  seed: str) -> list[DeviceRecord]:
        records: list[DeviceRecord] = []
        for index, gpu in enumerate(profile.gpus):
            records += write_gpu(tree, topo, gpu, index, seed)
        return records

    def show_health(self, tree: TreeWriter, record: DeviceRecord, healthy: bool,
                    reason: str) -> None:
        """A fatal AER error, and for Intel the DRM ``wedged`` state i915 reports."""
        write_aer(tree, record.sysfs, fatal=0 if healthy else 1)
        card = record.attributes.get("card")
        if record.attributes.get("driver") in ("i915", "xe") and card:
            tree.attr(f"{record.sysfs}/drm/{card}/error", "" if healthy else
                      f"GPU HANG: ecode 12:1:85dffffb, {reason}")

    def after_hotplug(self, tree: TreeWriter, state: TreeState) -> None:
        """Nothing outside a GPU's own records changes when it comes or goes."""

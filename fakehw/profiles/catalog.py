"""The device models a profile may name, with the PCI identities real drivers match on.

Drivers compare vendor and device IDs exactly and pick behaviour by the kernel driver bound to
the function, so each model carries the IDs and driver name of a real product.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class GPUModel:
    key: str
    product: str
    vendor_id: int
    device_id: int
    subsystem_vendor_id: int
    subsystem_device_id: int
    pci_class: int
    kernel_driver: str
    memory_bytes: int
    max_vfs: int
    vf_device_id: int


@dataclass(frozen=True)
class FPGAModel:
    key: str
    product: str
    vendor_id: int
    device_id: int
    kernel_driver: str


GPU_MODELS: dict[str, GPUModel] = {
    model.key: model
    for model in (
        GPUModel("intel-flex-170", "Intel Data Center GPU Flex 170", 0x8086, 0x56C0, 0x8086, 0x4905,
                 0x038000, "i915", 16 * GIB, 31, 0x56C0),
        GPUModel("intel-arc-a770", "Intel Arc A770 Graphics", 0x8086, 0x56A0, 0x8086, 0x1020,
                 0x030000, "i915", 16 * GIB, 0, 0),
        GPUModel("intel-arc-b580", "Intel Arc B580 Graphics", 0x8086, 0xE20B, 0x8086, 0x1100,
                 0x030000, "xe", 12 * GIB, 0, 0),
        GPUModel("amd-mi210", "AMD Instinct MI210", 0x1002, 0x740F, 0x1002, 0x0C34,
                 0x038000, "amdgpu", 64 * GIB, 0, 0),
        GPUModel("nvidia-a100", "NVIDIA A100-SXM4-40GB", 0x10DE, 0x20B0, 0x10DE, 0x134F,
                 0x030200, "nvidia", 40 * GIB, 0, 0),
    )
}

FPGA_MODELS: dict[str, FPGAModel] = {
    model.key: model
    for model in (
        FPGAModel("intel-pac-n3000", "Intel FPGA PAC N3000", 0x8086, 0x0B30, "dfl-pci"),
        FPGAModel("intel-pac-d5005", "Intel FPGA PAC D5005", 0x8086, 0x0B2B, "dfl-pci"),
    )
}

# QEMU's cxl-type3 device: the identity the kernel's cxl_pci binds to on emulated machines.
CXL_VENDOR_ID = 0x8086
CXL_DEVICE_ID = 0x0D93
CXL_CLASS = 0x050210
FPGA_CLASS = 0x120000

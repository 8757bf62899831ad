"""The internal model of a node's hardware, built from a versioned profile.

The YAML schema (``schema_v1alpha1``) is what users write; these frozen dataclasses are what
the tree writers and the camera read. Keeping them apart lets the schema evolve by version
while the writers see one stable shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fakehw.profiles.catalog import FPGAModel, GPUModel


@dataclass(frozen=True)
class GPU:
    model: GPUModel
    memory_bytes: int
    numa_node: int
    pcie_root: int
    sriov_vfs: int


@dataclass(frozen=True)
class FPGA:
    model: FPGAModel
    compat_id: str
    afu_id: str
    programming_seconds: float
    numa_node: int
    pcie_root: int


@dataclass(frozen=True)
class CXLMemory:
    ram_bytes: int
    numa_node: int
    regions: tuple[int, ...]


@dataclass(frozen=True)
class Camera:
    name: str
    width: int
    height: int
    fps: int
    codec: str
    username: str
    password: str
    auth: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class HardwareProfile:
    name: str
    cpus_per_node: int
    numa_nodes: int
    gpus: tuple[GPU, ...] = ()
    fpgas: tuple[FPGA, ...] = ()
    cxl: tuple[CXLMemory, ...] = ()
    cameras: tuple[Camera, ...] = ()
    source: str = field(default="<memory>", compare=False)

    @property
    def pcie_roots(self) -> tuple[int, ...]:
        used = {gpu.pcie_root for gpu in self.gpus} | {fpga.pcie_root for fpga in self.fpgas}
        return tuple(sorted(used | set(range(self.numa_nodes))))

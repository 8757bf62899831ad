"""CXL memory: a RAM region of exactly the allocated capacity, handed over as its DAX device.

The scheduler decides how much of a memdev a claim gets (consumable capacity) and writes it
into the allocation result; the preparer carves a region of that size, which the kernel
onlines as a CPU-less NUMA node, and tells the workload where it is. On unprepare the region
is destroyed, or, if a newer region sits above it, parked until the kernel allows it (see
``cxlledger``). Admin access creates nothing and hands over the memdev node for inspection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

from dra_reference.cdi import ContainerEdits
from dra_reference.discovery.model import DeviceNode
from dra_reference.discovery.sysfs import SysfsRoot, char_device
from dra_reference.errors import PreparerError
from dra_reference.params.types import CxlConfig
from dra_reference.plugin.model import JSON
from dra_reference.preparers.base import DeviceJob, Note, cdi_node
from dra_reference.preparers.cxlledger import RegionLedger
from dra_reference.preparers.cxlregions import (
    POLL_SECONDS,
    WAIT_SECONDS,
    RegionBackend,
    RegionBusyError,
)
from dra_reference.quantity import parse_bytes
from dra_reference.slices import CXL_STEP

log = logging.getLogger(__name__)


class CxlPreparer:
    kind = "cxl"
    changes_devices = True

    def __init__(self, sysfs_root: Path, devfs_root: Path, regions: RegionBackend,
                 ledger: RegionLedger) -> None:
        self._sysfs = SysfsRoot(sysfs_root)
        self._devfs = devfs_root
        self._regions = regions
        self._ledger = ledger

    def prepare(self, job: DeviceJob, note: Note) -> ContainerEdits:
        memdev = str(job.device.attributes.get("memdev", ""))
        if job.allocated.admin_access:
            return ContainerEdits(env=(f"FAKEHW_CXL_MEMDEV={memdev}",),
                                  device_nodes=tuple(cdi_node(n) for n in job.device.nodes))
        self.destroy_pending()
        size = _size(job)

        def reserve(region: str) -> None:
            note({"region": region, "memdev": memdev})
            self._ledger.add(region)

        region = self._regions.create(job.device, size, reserve)
        dax, numa = self._dax(region)
        config: CxlConfig = job.config
        env = (f"FAKEHW_CXL_REGION={region}", f"FAKEHW_CXL_REGION_SIZE={size}",
               f"FAKEHW_CXL_NUMA_NODE={numa}", f"FAKEHW_CXL_MEMDEV={memdev}",
               f"FAKEHW_CXL_DAX_DEVICE={dax.path if config.dax_device else ''}")
        return ContainerEdits(env=env, device_nodes=(cdi_node(dax),) if config.dax_device else ())

    def undo(self, notes: Mapping[str, JSON]) -> None:
        region = notes.get("region")
        if isinstance(region, str) and region:
            self._delete(region)
        self.destroy_pending()

    def destroy_pending(self) -> None:
        """Destroy parked regions the kernel now lets go, until none can be."""
        progress = True
        while progress:
            progress = False
            for region in self._ledger.pending():
                try:
                    self._regions.delete(region)
                except RegionBusyError:
                    continue
                self._ledger.drop(region)
                progress = True

    def _delete(self, region: str) -> None:
        try:
            self._regions.delete(region)
        except RegionBusyError:
            log.info("%s is below a newer region; destroying it once that one is gone", region)
            self._ledger.defer(region)
            return
        self._ledger.drop(region)

    def _dax(self, region: str) -> tuple[DeviceNode, int]:
        """The region's DAX device node and the NUMA node its memory was onlined as.

        The device's sysfs folder appears before devtmpfs has made its /dev node, so the
        node is waited for as long as the region itself."""
        deadline = time.monotonic() + WAIT_SECONDS
        while (found := self._find_dax(region)) is None:
            if time.monotonic() > deadline:
                raise PreparerError(f"{region} has no DAX device with a /dev node after "
                                    f"{WAIT_SECONDS:.0f}s")
            time.sleep(POLL_SECONDS)
        return found

    def _find_dax(self, region: str) -> tuple[DeviceNode, int] | None:
        path = self._sysfs.device_path(f"bus/cxl/devices/{region}")
        if path is None:
            raise PreparerError(f"{region} vanished right after it was made")
        for dax_region in self._sysfs.entries(path, "dax_region"):
            for dax in self._sysfs.entries(path / dax_region, "dax"):
                folder = path / dax_region / dax  # daxX.Y, next to the dax_region attributes
                node = char_device(self._sysfs, folder / "dev", self._devfs, dax)
                if node is not None:
                    return node, self._sysfs.read_int(folder / "target_node") or 0
        return None


def _size(job: DeviceJob) -> int:
    """The consumed capacity; the device's default share when the scheduler set none."""
    consumed = job.allocated.consumed_capacity.get("memory")
    return parse_bytes(consumed) if consumed else CXL_STEP

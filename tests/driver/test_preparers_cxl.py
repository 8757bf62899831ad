"""CXL memory: a RAM region of the allocated capacity per claim, its DAX device handed over,
destroyed on unprepare in the order the kernel allows, undone on failure and after a crash.

These unit tests run on a tree without its watcher (nothing acts on sysfs writes), so the
region backend here is ``FakehwRegions``; ``SysfsRegions``, the kernel ABI, is checked for
what it can do on such a tree: refuse a region below another, and fail clearly otherwise.
With the watcher running it makes and destroys regions: ``test_cxl_sysfs_backend``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from dra_reference.cdi import ContainerEdits
from dra_reference.checkpoint import CheckpointEntry, ClaimStatus, PreparedRecord
from dra_reference.discovery.model import Device
from dra_reference.discovery.node import NodeHardware
from dra_reference.errors import PreparerError
from dra_reference.inventory import Inventory
from dra_reference.plugin.model import (
    JSON,
    AllocatedDevice,
    ClaimRef,
    PreparedDevice,
    PrepareRequest,
)
from dra_reference.preparers.base import DeviceJob, Note
from dra_reference.preparers.cxl import CxlPreparer
from dra_reference.preparers.cxlledger import RegionLedger
from dra_reference.preparers.cxlregions import RegionBackend, RegionBusyError, SysfsRegions
from dra_reference.preparers.dispatch import KindDispatcher
from dra_reference.preparers.journal import Journal

from fakehw import machine, profiles
from fakehw.devices import cxl as fakehw_cxl
from fakehw.tree import state as tree_state
from tests.driver.driverkit import FakehwRegions

pytestmark = pytest.mark.unit
MEMDEV = "cxl-0000-81-00-0"
MI = 2**20


class Crash(BaseException):
    """The process dying mid-prepare."""


class CrashingGpu:
    kind = "gpu"
    changes_devices = False

    def prepare(self, job: DeviceJob, note: Note) -> ContainerEdits:
        raise Crash

    def undo(self, notes: Mapping[str, JSON]) -> None:
        """Nothing was done."""


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    state = machine.up(profiles.load("numa-mixed"), tmp_path / "hw", "node-a")
    yield Path(state.root)
    machine.down(Path(state.root))


def regions(root: Path) -> list[str]:
    return [r.name for r in tree_state.load(root).devices if r.kind == "cxl-region"]


def dispatcher(root: Path, backend: RegionBackend | None = None,
               extra: tuple[CrashingGpu, ...] = ()) -> KindDispatcher:
    ledger = RegionLedger(root / "state/cxl-regions.json")
    hardware = NodeHardware(root / "sys", root / "dev", ("cxl",), owned_regions=ledger.owned)
    crash = [Device("gpu-x", "gpu", {"type": "gpu"})] if extra else []
    inventory = Inventory(lambda: {"node-a": [*hardware.scan(), *crash]})
    preparer = CxlPreparer(root / "sys", root / "dev", backend or FakehwRegions(root), ledger)
    return KindDispatcher([preparer, *extra], inventory.lookup, Journal(root / "state/j"))


def request(uid: str, *sizes: str | None, admin: bool = False,
            crash: bool = False) -> PrepareRequest:
    devices = [AllocatedDevice("mem", "node-a", MEMDEV, admin_access=admin,
                               consumed_capacity={"memory": size} if size else {})
               for size in sizes]
    if crash:
        devices.append(AllocatedDevice("gpu", "node-a", "gpu-x"))
    return PrepareRequest(ClaimRef("default", uid, uid), tuple(devices))


def entry(req: PrepareRequest, prepared: list[PreparedDevice]) -> CheckpointEntry:
    return CheckpointEntry(req.claim, ClaimStatus.PREPARED, req.devices,
                           tuple(PreparedRecord(p, ()) for p in prepared))


def env(edits: ContainerEdits) -> dict[str, str]:
    return dict(e.split("=", 1) for e in edits.env)


def test_a_region_of_the_consumed_capacity_is_made_and_handed_over(root: Path) -> None:
    running = dispatcher(root)
    req = request("c1", "512Mi")
    [prepared] = running.prepare(req)
    values = env(prepared.edits)
    region = values["FAKEHW_CXL_REGION"]
    record = tree_state.load(root).find(region)
    assert record.attributes["size"] == 512 * MI
    assert values["FAKEHW_CXL_REGION_SIZE"] == str(512 * MI)
    assert values["FAKEHW_CXL_NUMA_NODE"] == str(record.attributes["targetNode"])
    dax = str(record.attributes["daxDevice"])
    assert values["FAKEHW_CXL_DAX_DEVICE"] == f"/dev/{dax}"
    [node] = prepared.edits.device_nodes
    truth = record.dev_nodes[0]
    assert (node.path, node.type, node.major, node.minor) == (f"/dev/{dax}", "c", truth.major,
                                                             truth.minor)
    # the driver's own region stays on offer: the scheduler accounts for it
    [memdev] = NodeHardware(root / "sys", root / "dev", ("cxl",), owned_regions=RegionLedger(
        root / "state/cxl-regions.json").owned).scan()
    assert memdev.capacity["memory"] == 1024 * MI
    running.unprepare(entry(req, [prepared]))
    assert region not in regions(root)
    assert RegionLedger(root / "state/cxl-regions.json").owned() == set()


def test_without_consumed_capacity_the_default_share_is_used(root: Path) -> None:
    [prepared] = dispatcher(root).prepare(request("c1", None))
    assert env(prepared.edits)["FAKEHW_CXL_REGION_SIZE"] == str(256 * MI)


def test_a_region_below_another_is_destroyed_once_the_upper_one_goes(root: Path) -> None:
    running = dispatcher(root)
    first, second = request("c1", "256Mi"), request("c2", "256Mi")
    lower, upper = running.prepare(first), running.prepare(second)
    lower_region = env(lower[0].edits)["FAKEHW_CXL_REGION"]
    running.unprepare(entry(first, lower))  # succeeds: the region is parked
    assert lower_region in regions(root)
    assert RegionLedger(root / "state/cxl-regions.json").pending() == [lower_region]
    running.unprepare(entry(second, upper))
    assert regions(root) == ["region0"]  # only the administrator's
    assert RegionLedger(root / "state/cxl-regions.json").pending() == []


def test_a_later_failure_in_the_claim_destroys_the_region(root: Path) -> None:
    class FailSecond(FakehwRegions):
        def create(self, device: Device, size: int, reserve: Callable[[str], None]) -> str:
            if self.created:
                raise OSError("no decoder left")
            return super().create(device, size, reserve)

    backend = FailSecond(root)
    with pytest.raises(PreparerError, match="no decoder left"):
        dispatcher(root, backend).prepare(request("c1", "256Mi", "256Mi"))
    assert backend.created
    assert regions(root) == ["region0"]


def test_too_much_capacity_is_the_claims_error(root: Path) -> None:
    with pytest.raises(PreparerError, match="does not fit on mem0"):
        dispatcher(root).prepare(request("c1", "4Gi"))


def test_a_crash_after_the_region_was_made_is_undone_from_the_journal(root: Path) -> None:
    with pytest.raises(Crash):
        dispatcher(root, extra=(CrashingGpu(),)).prepare(request("c1", "256Mi", crash=True))
    assert len(regions(root)) == 2
    dispatcher(root).rollback(CheckpointEntry(ClaimRef("default", "c1", "c1"),
                                              ClaimStatus.PREPARING))
    assert regions(root) == ["region0"]


def test_admin_access_makes_no_region(root: Path) -> None:
    [prepared] = dispatcher(root).prepare(request("c1", "256Mi", admin=True))
    assert regions(root) == ["region0"]
    assert [n.path for n in prepared.edits.device_nodes] == ["/dev/cxl/mem0"]


def test_the_kernel_abi_refuses_to_destroy_a_region_below_another(root: Path) -> None:
    lower = fakehw_cxl.create_region(root, "mem0", "256Mi")
    fakehw_cxl.create_region(root, "mem0", "256Mi")
    with pytest.raises(RegionBusyError, match="from the top only"):
        SysfsRegions(root / "sys").delete(lower)
    assert lower in regions(root)  # nothing was reset
    SysfsRegions(root / "sys").delete("region9")  # one that does not exist is fine


def test_the_kernel_abi_fails_clearly_where_nothing_acts_on_writes(root: Path) -> None:
    running = dispatcher(root, SysfsRegions(root / "sys", wait_seconds=0.2))
    with pytest.raises(PreparerError, match="in vain") as failure:
        running.prepare(request("c1", "256Mi"))
    assert "create" in str(failure.value)
    assert regions(root) == ["region0"]

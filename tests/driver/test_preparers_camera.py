"""Cameras: a credential per claim, minted on a real camera daemon over its control socket,
working over RTSP while prepared, revoked on unprepare, on rollback, and after a crash."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from dra_reference.camerapools import CameraProber
from dra_reference.cdi import ContainerEdits
from dra_reference.checkpoint import CheckpointEntry, ClaimStatus, PreparedRecord
from dra_reference.discovery.cameras import CameraSpec
from dra_reference.discovery.model import Device
from dra_reference.errors import PreparerError
from dra_reference.inventory import Inventory
from dra_reference.plugin.model import JSON, AllocatedDevice, ClaimRef, PrepareRequest
from dra_reference.preparers.base import DeviceJob, Note
from dra_reference.preparers.camera import CameraPreparer
from dra_reference.preparers.dispatch import KindDispatcher
from dra_reference.preparers.journal import Journal

from fakehw.camera.control import CameraControl
from tests.camera.rtsp_client import RtspClient
from tests.driver.driverkit import CameraDaemon, camera_daemon

pytestmark = pytest.mark.socket
CLAIM = ClaimRef("default", "cam-claim", "uid-cam")
GPU = Device("gpu-x", "gpu", {"type": "gpu"})


class Crash(BaseException):
    """The process dying mid-prepare: nothing after it runs, not even rollback."""


class CrashingGpu:
    kind = "gpu"
    changes_devices = False

    def prepare(self, job: DeviceJob, note: Note) -> ContainerEdits:
        raise Crash

    def undo(self, notes: Mapping[str, JSON]) -> None:
        """Nothing was done."""


@pytest.fixture
def daemon() -> Iterator[CameraDaemon]:
    with camera_daemon([{"name": "cam0", "width": 320, "height": 240, "port": 0},
                        {"name": "cam1", "width": 320, "height": 240, "port": 0}]) as running:
        yield running


def specs(daemon: CameraDaemon, control: str = "") -> dict[str, CameraSpec]:
    endpoint = control or f"unix://{daemon.control}"
    return {name: CameraSpec(name, url, endpoint, name, "fakehw", "ipc", 320, 240, "h264", 10)
            for name, url in daemon.urls.items()}


def dispatcher(cameras: dict[str, CameraSpec], journal: Path,
               extra: list[CrashingGpu] = ()) -> KindDispatcher:  # type: ignore[assignment]
    prober = CameraProber(list(cameras.values()), check=lambda url: "")
    inventory = Inventory(lambda: {**prober.devices(), "node-a": [GPU]})
    return KindDispatcher([CameraPreparer(cameras), *extra], inventory.lookup, Journal(journal))


def request(*cameras: str, gpu: bool = False) -> PrepareRequest:
    devices = [AllocatedDevice("camera", f"camera-{name}", name) for name in cameras]
    if gpu:
        devices.append(AllocatedDevice("gpu", "node-a", GPU.name))
    return PrepareRequest(CLAIM, tuple(devices))


def users(daemon: CameraDaemon, camera: str) -> list[str]:
    return list(CameraControl(daemon.control).status(camera)[0]["users"])


def describe(url: str, user: str, password: str) -> int:
    host, port = url.split("/")[2].split(":")
    with RtspClient(host, int(port)) as client:
        client.auth = ("digest", user, password)
        return client.request("DESCRIBE", url).status


def env(edits: ContainerEdits) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in edits.env)


def test_a_claim_gets_a_working_credential_of_its_own(daemon: CameraDaemon,
                                                      tmp_path: Path) -> None:
    cameras = specs(daemon)
    running = dispatcher(cameras, tmp_path)
    [prepared] = running.prepare(request("cam0"))
    values = env(prepared.edits)
    assert values["FAKEHW_CAMERA_URL"] == daemon.urls["cam0"]
    assert values["FAKEHW_CAMERA_CAM0_URL"] == daemon.urls["cam0"]
    assert values["FAKEHW_CAMERA_USERNAME"] == "dra-uid-cam"
    assert values["FAKEHW_CAMERA_TRANSPORT"] == "tcp"
    assert values["FAKEHW_CAMERA_URL_WITH_CREDENTIALS"].startswith("rtsp://dra-uid-cam:")
    assert "dra-uid-cam" in users(daemon, "cam0")
    assert describe(daemon.urls["cam0"], "dra-uid-cam", values["FAKEHW_CAMERA_PASSWORD"]) == 200
    running.unprepare(CheckpointEntry(CLAIM, ClaimStatus.PREPARED, request("cam0").devices,
                                      (PreparedRecord(prepared, ()),)))
    assert "dra-uid-cam" not in users(daemon, "cam0")
    assert describe(daemon.urls["cam0"], "dra-uid-cam", values["FAKEHW_CAMERA_PASSWORD"]) == 401


def test_two_cameras_in_one_request_get_only_prefixed_names(daemon: CameraDaemon,
                                                            tmp_path: Path) -> None:
    prepared = dispatcher(specs(daemon), tmp_path).prepare(request("cam0", "cam1"))
    for device, name in zip(prepared, ("CAM0", "CAM1"), strict=True):
        values = env(device.edits)
        assert f"FAKEHW_CAMERA_{name}_PASSWORD" in values
        assert "FAKEHW_CAMERA_URL" not in values


def test_an_unreachable_control_endpoint_is_retryable(daemon: CameraDaemon,
                                                      tmp_path: Path) -> None:
    cameras = specs(daemon, control=f"unix://{tmp_path}/absent.sock")
    with pytest.raises(PreparerError, match=r"absent\.sock") as failure:
        dispatcher(cameras, tmp_path / "j").prepare(request("cam0"))
    assert failure.value.retryable


def test_a_failure_later_in_the_claim_revokes_the_credential(daemon: CameraDaemon,
                                                            tmp_path: Path) -> None:
    cameras = specs(daemon)
    cameras["cam1"] = CameraSpec("cam1", daemon.urls["cam1"], f"unix://{tmp_path}/gone.sock",
                                 "cam1", "fakehw", "ipc", 320, 240, "h264", 10)
    with pytest.raises(PreparerError):
        dispatcher(cameras, tmp_path / "j").prepare(request("cam0", "cam1"))
    assert "dra-uid-cam" not in users(daemon, "cam0")
    assert not list((tmp_path / "j").glob("*.json"))


def test_a_crash_mid_prepare_is_rolled_back_from_the_journal(daemon: CameraDaemon,
                                                            tmp_path: Path) -> None:
    cameras = specs(daemon)
    with pytest.raises(Crash):
        dispatcher(cameras, tmp_path, [CrashingGpu()]).prepare(request("cam0", gpu=True))
    assert "dra-uid-cam" in users(daemon, "cam0")  # minted, and the process "died"
    restarted = dispatcher(cameras, tmp_path)
    restarted.rollback(CheckpointEntry(CLAIM, ClaimStatus.PREPARING, request("cam0").devices))
    assert "dra-uid-cam" not in users(daemon, "cam0")
    restarted.rollback(CheckpointEntry(CLAIM, ClaimStatus.PREPARING, request("cam0").devices))


def test_a_camera_without_control_endpoint_gets_just_its_url(daemon: CameraDaemon,
                                                             tmp_path: Path) -> None:
    cameras = {"cam0": CameraSpec("cam0", daemon.urls["cam0"], "", "cam0", "fakehw", "ipc",
                                  320, 240, "h264", 10)}
    [prepared] = dispatcher(cameras, tmp_path).prepare(request("cam0"))
    values = env(prepared.edits)
    assert values["FAKEHW_CAMERA_URL"] == daemon.urls["cam0"]
    assert values["FAKEHW_CAMERA_USERNAME"] == ""
    assert prepared.undo == {"kind": "camera", "device": "cam0"}

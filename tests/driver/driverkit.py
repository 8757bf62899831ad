"""Helpers for the reference driver's discovery, slice and preparer tests.

The driver never imports fakehw; these helpers do, to make the hardware the driver then
finds on its own: trees from the built-in profiles, the firmware watcher that stands in for
the kernel's firmware loader, and a CXL region backend that stands in for the kernel's region
ABI (fakehw offers region creation as Python functions only). ``FakeResourceApi`` is an
in-memory ResourceSlice store with the API server's rules the publisher relies on.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dra_reference.discovery.model import Device
from dra_reference.kube import ApiError
from dra_reference.preparers.cxlregions import RegionBusyError

from fakehw.devices import cxl as fakehw_cxl
from fakehw.devices.fpga import watch_firmware_requests
from fakehw.errors import UnknownDeviceError


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@contextlib.contextmanager
def firmware_loader(root: Path) -> Iterator[None]:
    """fakehw's watcher, serving writes to fpga_manager/fpgaN/firmware like a kernel."""
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        watcher = pool.submit(watch_firmware_requests, root, stop, tick=0.02)
        time.sleep(0.1)  # let it place its watches
        try:
            yield
        finally:
            stop.set()
            watcher.result(timeout=30)


class FakehwRegions:
    """A ``RegionBackend`` over fakehw's create_region/delete_region (what the kernel does)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.created: list[str] = []
        self.fail_next = ""

    def create(self, device: Device, size: int, reserve: Callable[[str], None]) -> str:
        if self.fail_next:
            message, self.fail_next = self.fail_next, ""
            raise OSError(message)
        name = fakehw_cxl.create_region(self.root, str(device.attributes["memdev"]), size)
        reserve(name)
        self.created.append(name)
        return name

    def delete(self, region: str) -> None:
        try:
            fakehw_cxl.delete_region(self.root, region)
        except fakehw_cxl.RegionOrderError as exc:
            raise RegionBusyError(str(exc)) from exc
        except UnknownDeviceError:
            return  # gone already


STAMP = "2026-01-01T00:00:00Z"
SLICES = "/apis/resource.k8s.io/v1/resourceslices"


class FakeResourceApi:
    """The API server's ResourceSlice endpoints over a dict, as ``KubeAPI`` calls them: JSON
    in and out, selectors, resourceVersion conflicts and the errors the server answers."""

    def __init__(self) -> None:
        self.slices: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str]] = []  # (verb, name)
        self._versions = itertools.count(1)
        self.fail: ApiError | None = None

    def get(self, path: str, *, query: dict[str, str] | None = None,
            **_: Any) -> dict[str, Any]:
        self._maybe_fail()
        assert path == SLICES, path
        query = query or {}
        fields = self._selector(query.get("fieldSelector", ""))
        labels = self._selector(query.get("labelSelector", ""))
        items = [copy.deepcopy(s) for s in self.slices.values()
                 if all(self._field(s, k) == v for k, v in fields.items())
                 and all((s["metadata"].get("labels") or {}).get(k) == v
                         for k, v in labels.items())]
        return {"metadata": {"resourceVersion": str(next(self._versions))}, "items": items}

    def create(self, path: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._maybe_fail()
        assert path == SLICES, path
        if body["metadata"]["name"] in self.slices:
            raise ApiError(409, "AlreadyExists")
        return self._store("create", body)

    def replace(self, path: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._maybe_fail()
        name = self._name(path)
        if name not in self.slices:
            raise ApiError(404, "NotFound")
        if body["metadata"].get("resourceVersion") != (
                self.slices[name]["metadata"]["resourceVersion"]):
            raise ApiError(409, "Conflict")
        return self._store("replace", body)

    def delete(self, path: str, **_: Any) -> dict[str, Any]:
        self._maybe_fail()
        name = self._name(path)
        if self.slices.pop(name, None) is None:
            raise ApiError(404, "NotFound")
        self.writes.append(("delete", name))
        return {}

    def watch(self, path: str, **_: Any) -> Iterator[dict[str, Any]]:
        """A watch window that ends without events (the tests change slices directly)."""
        self._maybe_fail()
        time.sleep(0.2)
        yield from ()

    def pool(self, name: str) -> list[dict[str, Any]]:
        return sorted((s for s in self.slices.values() if s["spec"]["pool"]["name"] == name),
                      key=lambda s: s["metadata"]["name"])

    def devices(self, pool: str) -> dict[str, dict[str, Any]]:
        return {d["name"]: d for s in self.pool(pool) for d in s["spec"].get("devices") or []}

    def _store(self, verb: str, body: dict[str, Any]) -> dict[str, Any]:
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(next(self._versions))
        for device in stored["spec"].get("devices") or []:  # the API server stamps taints
            for taint in device.get("taints") or []:
                taint.setdefault("timeAdded", STAMP)
        self.slices[stored["metadata"]["name"]] = stored
        self.writes.append((verb, stored["metadata"]["name"]))
        return copy.deepcopy(stored)

    def _maybe_fail(self) -> None:
        if self.fail is not None:
            raise self.fail

    @staticmethod
    def _name(path: str) -> str:
        assert path.startswith(SLICES + "/"), path
        return path.removeprefix(SLICES + "/")

    @staticmethod
    def _selector(text: str) -> dict[str, str]:
        return dict(part.split("=", 1) for part in text.split(",") if part)

    @staticmethod
    def _field(item: dict[str, Any], key: str) -> Any:
        return {"spec.driver": item["spec"]["driver"],
                "spec.nodeName": item["spec"].get("nodeName")}[key]


@dataclass(frozen=True)
class CameraDaemon:
    """fakehw's camera daemon in its own process: cameras by URL, and its control socket."""

    process: subprocess.Popen[str]
    control: Path
    urls: dict[str, str]


@contextlib.contextmanager
def camera_daemon(cameras: list[dict[str, Any]]) -> Iterator[CameraDaemon]:
    """Start the daemon on free ports; socket paths must stay short, hence /tmp."""
    with tempfile.TemporaryDirectory(prefix="dra-cam-", dir="/tmp") as name:
        folder = Path(name)
        (folder / "cams.json").write_text(json.dumps({"cameras": cameras}))
        process = subprocess.Popen(
            [sys.executable, "-m", "fakehw.camera", "serve", "--config",
             str(folder / "cams.json"), "--control-socket", str(folder / "ctl.sock")],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            assert process.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                assert selector.select(30), "the camera daemon printed nothing in time"
            ready = json.loads(process.stdout.readline())
            yield CameraDaemon(process, folder / "ctl.sock",
                               {c["name"]: c["url"] for c in ready["cameras"]})
        finally:
            if process.poll() is None:
                process.terminate()
            process.communicate(timeout=15)

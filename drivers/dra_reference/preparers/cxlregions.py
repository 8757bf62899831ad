"""Creating and destroying CXL RAM regions, behind a seam, with the kernel's sysfs ABI as default.

``SysfsRegions`` does what ``cxl create-region -t ram`` and ``cxl destroy-region`` do (ndctl
``cxl/region.c``): take the name the root decoder offers in ``create_ram_region``, write it
back to create the region, set its geometry, give it the memdev's next free endpoint decoder
with a DPA size, commit, bind ``cxl_region`` and wait for the DAX device; destruction undoes
it (``cxl destroy-region``'s order: unbind, decode reset, detach the target, free the DPA,
delete). The kernel frees device memory from the top only, so a region whose endpoint decoder is
not the highest one in use is refused up front (``RegionBusyError``) before anything is reset.

Other ways of making regions (a helper service, a test double driving an emulator) plug in
through ``RegionBackend``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from dra_reference.discovery.model import Device
from dra_reference.errors import PreparerError, TemporaryError

WAIT_SECONDS = 10.0
POLL_SECONDS = 0.02


class RegionBusyError(TemporaryError):
    """A region allocated below another cannot be destroyed yet (the kernel's EBUSY)."""


class RegionBackend(Protocol):
    def create(self, device: Device, size: int, reserve: Callable[[str], None]) -> str:
        """Make an onlined RAM region of ``size`` bytes on the memdev; return its name.

        Call ``reserve(name)`` as soon as the name is known and before the region exists.
        """
        ...

    def delete(self, region: str) -> None:
        """Destroy ``region``; one that does not exist is fine; one below another raises
        ``RegionBusyError``."""
        ...


class SysfsRegions:
    """The kernel's region ABI under a sysfs root."""

    def __init__(self, sysfs_root: Path, wait_seconds: float = WAIT_SECONDS) -> None:
        self.root = sysfs_root
        self.wait = wait_seconds

    def create(self, device: Device, size: int, reserve: Callable[[str], None]) -> str:
        decoder = self.root / device.paths["rootDecoder"]
        endpoint = self.root / device.paths["endpoint"]
        name = _read(decoder / "create_ram_region")
        reserve(name)
        _write(decoder / "create_ram_region", name)
        region = decoder / name
        self._wait_for(region.is_dir, f"the kernel to create {region}")
        _write(region / "interleave_granularity", _read(decoder / "interleave_granularity"))
        _write(region / "interleave_ways", "1")
        target = _free_decoder(endpoint)
        _write(endpoint / target / "mode", "ram")
        _write(endpoint / target / "dpa_size", f"{size:#x}")
        _write(region / "size", f"{size:#x}")
        _write(region / "target0", target)
        _write(region / "commit", "1")
        _write(self.root / "bus/cxl/drivers/cxl_region/bind", name)
        self._wait_for(lambda: bool(list(region.glob("dax_region*/dax*.*"))),
                       f"a DAX device under {region}")
        return name

    def delete(self, region: str) -> None:
        link = self.root / "bus/cxl/devices" / region
        if not link.exists():
            return
        path = link.resolve()
        target = _read(path / "target0")
        endpoint = _endpoint_of(self.root, target)
        if endpoint is not None and target != _highest_in_use(endpoint):
            raise RegionBusyError(f"{region} sits below a newer region on its memdev; the "
                                  "kernel frees device memory from the top only")
        _write(self.root / "bus/cxl/drivers/cxl_region/unbind", region, missing_ok=True)
        _write(path / "commit", "0")
        _write(path / "target0", "\n")  # the kernel frees no DPA a region still uses (EBUSY)
        if endpoint is not None:
            _write(endpoint / target / "dpa_size", "0")
        _write(path.parent / "delete_region", region)
        self._wait_for(lambda: not link.exists(), f"the kernel to remove {region}")

    def _wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.wait
        while not condition():
            if time.monotonic() > deadline:
                raise PreparerError(f"waited {self.wait:.0f}s for {what} in vain; does this "
                                    "kernel (or emulation) act on CXL region writes?")
            time.sleep(POLL_SECONDS)


def _free_decoder(endpoint: Path) -> str:
    """The lowest endpoint decoder not in use: the kernel allocates them in order."""
    for decoder in sorted(endpoint.glob("decoder*.*"), key=_decoder_id):
        if _read(decoder / "mode") in ("none", "") and not _read(decoder / "region"):
            return decoder.name
    raise PreparerError(f"every HDM decoder of {endpoint.name} is in use; a region must go "
                        "before another can be made")


def _highest_in_use(endpoint: Path) -> str:
    used = [d for d in endpoint.glob("decoder*.*") if int(_read(d / "dpa_size") or "0", 16)]
    return max(used, key=_decoder_id).name if used else ""


def _endpoint_of(root: Path, decoder: str) -> Path | None:
    link = root / "bus/cxl/devices" / decoder
    return link.resolve().parent if link.exists() else None


def _decoder_id(path: Path) -> int:
    _, _, number = path.name.partition(".")
    return int(number) if number.isdigit() else 0


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise PreparerError(f"reading {path}: {exc.strerror}") from exc


def _write(path: Path, value: str, *, missing_ok: bool = False) -> None:
    """One write per open, as sysfs wants; the kernel's errno becomes the message. O_TRUNC
    is ignored by sysfs but keeps a shorter value from landing on a longer one in a tree
    of plain files (an emulation's)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)
    except OSError as exc:
        if missing_ok:
            return
        raise PreparerError(f"writing {value!r} to {path}: {exc.strerror}") from exc

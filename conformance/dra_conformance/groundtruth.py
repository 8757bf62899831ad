"""What a fakehw node really has, and its faults, for drivers that run on fakehw.

The suite imports no test bed: it runs the ``fakehw`` program (installed with the suite) on
the tree given with ``--dra-fakehw-root``. Attribute names are each driver's own, so a
published device is matched to the hardware by value: its attributes must carry the PCI
address, the vendor ID and the device ID.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dra_conformance.errors import ConformanceError

PCI_KINDS = ("gpu", "gpu-vf", "fpga", "cxl")


class GroundTruthError(ConformanceError):
    """fakehw could not be asked (not installed, not a tree, a failed command)."""


def _fakehw(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "fakehw.cli", *args], capture_output=True,
                          text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise GroundTruthError(f"fakehw {' '.join(args)} failed: "
                               f"{(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def pci_devices(root: Path) -> list[dict[str, Any]]:
    """The tree's PCI devices that are plugged in, as ``fakehw inventory`` lists them."""
    devices: list[dict[str, Any]] = json.loads(_fakehw("inventory", "--root", str(root), "-o",
                                                       "json"))["devices"]
    return [d for d in devices if d["kind"] in PCI_KINDS and d["bdf"] and d["present"]]


def identity(device: Mapping[str, Any]) -> set[str]:
    """What a published device must carry to be this hardware device."""
    attributes = device["attributes"]
    return {str(device["bdf"]).lower(), str(attributes["vendor"]).lower(),
            str(attributes["device"]).lower()}


def values(published: Mapping[str, Any]) -> set[str]:
    """Every attribute value of a published device (ResourceSlice form), as lower-case text."""
    found: set[str] = set()
    for raw in (published.get("attributes") or {}).values():
        found.update(str(v).lower() for v in raw.values())
    return found


def published_as(hardware: Mapping[str, Any],
                 published: Iterable[Mapping[str, Any]]) -> list[str]:
    """Names of the published devices that carry ``hardware``'s identity."""
    wanted = identity(hardware)
    return [str(d["name"]) for d in published if wanted <= values(d)]


PCIE_ROOT = "resource.kubernetes.io/pcieRoot"  # the standard attribute, where published


def problems(hardware: Iterable[Mapping[str, Any]], published: Iterable[Mapping[str, Any]]
             ) -> tuple[list[str], list[str]]:
    """Where ``published`` (a node's devices) and ``hardware`` (``pci_devices``) disagree,
    and the names of the published devices matched to hardware. Each hardware device must be
    published exactly once, every published device must be hardware, and the standard PCIe
    root attribute, where published, must be the device's true root."""
    published = list(published)
    found: list[str] = []
    matched: list[str] = []
    for device in hardware:
        names = published_as(device, published)
        if len(names) != 1:
            found.append(f"{device['name']} ({device['kind']}, {sorted(identity(device))}) is "
                         f"published as {names or 'nothing'}")
        matched += names
        truth = device["attributes"].get("pcieRoot")
        for entry in (d for d in published if d["name"] in names):
            shown = (entry.get("attributes") or {}).get(PCIE_ROOT, {}).get("string")
            if shown is not None and truth is not None and shown != truth:
                found.append(f"{entry['name']} publishes {PCIE_ROOT} {shown!r}; "
                             f"{device['name']} is under {truth!r}")
    invented = sorted({str(d["name"]) for d in published} - set(matched))
    if invented:
        found.append(f"published but not in the hardware: {invented}")
    return found, sorted(set(matched))


def set_health(root: Path, device: str, healthy: bool, reason: str = "") -> None:
    """Mark a fakehw device healthy or unhealthy, where its kernel driver would show it."""
    _fakehw("health", "--root", str(root), device, "healthy" if healthy else "unhealthy",
            "--reason", reason)


def unplug(root: Path, device: str) -> None:
    """Hot-unplug a fakehw device, with everything hanging off it."""
    _fakehw("unplug", "--root", str(root), device)


def replug(root: Path, device: str) -> None:
    _fakehw("replug", "--root", str(root), device)

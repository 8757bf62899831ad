"""What a fakehw node really has, and its faults, for drivers that run on fakehw.

The suite imports no test bed: it runs the ``fakehw`` program (installed with the suite) on
the tree given with ``--dra-fakehw-root``. Attribute names are each driver's own, so a
published device is matched to the hardware by value: its attributes must carry the PCI
address, the vendor ID and the device ID.
"""

from __future__ import annotations

import json
import os
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


def inventory(root: Path) -> list[dict[str, Any]]:
    """Every device of the tree, as ``fakehw inventory`` lists them."""
    devices: list[dict[str, Any]] = json.loads(_fakehw("inventory", "--root", str(root), "-o",
                                                       "json"))["devices"]
    return devices


def pci_devices(root: Path, devices: list[dict[str, Any]] | None = None
                ) -> list[dict[str, Any]]:
    """The tree's PCI devices that are plugged in (of ``devices``, else of its inventory)."""
    return [d for d in (inventory(root) if devices is None else devices)
            if d["kind"] in PCI_KINDS and d["bdf"] and d["present"]]


def regions(root: Path) -> dict[str, int]:
    """The tree's CXL regions and their sizes, as the kernel would list them now."""
    return {d["name"]: int(d["attributes"]["size"]) for d in inventory(root)
            if d["kind"] == "cxl-region"}


def device_numbers(root: Path, devices: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """The owner of every device number of the tree's hardware: ``major:minor`` (the sysfs
    ``dev`` files, as the kernel shows them) to the name of the PCI device whose folder
    holds it (a GPU's DRM nodes, an FPGA's FME and port) or, for a CXL region's DAX device,
    the memory device it was carved from."""
    devices = inventory(root) if devices is None else devices
    memdevs = {d["attributes"].get("memdev"): d["name"] for d in pci_devices(root, devices)
               if d["kind"] == "cxl"}
    owners: dict[str, str] = {}
    for device in sorted(devices, key=lambda d: len(d["sysfs"])):  # the deepest folder wins
        if device["kind"] in PCI_KINDS:
            owner = device["name"]
        elif device["kind"] == "cxl-region":
            owner = memdevs.get(device["attributes"].get("memdev"), "")
        else:
            continue
        for folder, _dirs, files in os.walk(root / "sys" / device["sysfs"]):
            if owner and "dev" in files:
                owners[(Path(folder) / "dev").read_text().strip()] = owner
    return owners


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


def matched(hardware: Iterable[Mapping[str, Any]],
            published: Mapping[tuple[str, str], Mapping[str, Any]]
            ) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The hardware device each published one (``slices.entries``: by pool and name) is."""
    return {key: device for device in hardware for key, entry in published.items()
            if published_as(device, [entry])}


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


NODE_KINDS = ("gpu", "gpu-vf", "fpga")  # hardware used through its device nodes


def node_problems(seen: Mapping[str, str], owners: Mapping[str, str],
                  allocated: Iterable[Mapping[str, Any]]) -> list[str]:
    """Where the device nodes a container has (``seen``: its path to ``major:minor``) are
    not exactly those of its ``allocated`` hardware (``owners`` from ``device_numbers``):
    a node of any other device of the node, or a GPU or FPGA of which it has no node."""
    allocated = list(allocated)
    mine = {d["name"] for d in allocated}
    found = [f"{path} ({number}) is {owners[number]}'s, which was not allocated"
             for path, number in sorted(seen.items())
             if number in owners and owners[number] not in mine]
    shown = {owners.get(number) for number in seen.values()}
    found += [f"no device node of {d['name']} ({d['kind']})" for d in allocated
              if d["kind"] in NODE_KINDS and d["name"] not in shown
              and d["name"] in owners.values()]
    return found


def write_bitstream(root: Path, fpga: Mapping[str, Any], afu: str, name: str) -> Path:
    """An image for ``fpga`` (its region's interface ID) carrying accelerator ``afu``, in the
    node's firmware folder as ``name``, where the kernel's firmware loader looks."""
    path = root / "lib" / "firmware" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    _fakehw("fpga", "make-bitstream", "--interface-id", str(fpga["attributes"]["compatId"]),
            "--afu-id", afu, "-o", str(path))
    return path


def fpga_state(root: Path, fpga: Mapping[str, Any]) -> tuple[str, str]:
    """What ``fpga`` shows right now, read from its sysfs files (no command in between): its
    FPGA manager's ``state`` and its port's ``afu_id``."""
    state = afu = ""
    for folder, _dirs, files in os.walk(root / "sys" / fpga["sysfs"]):
        if "state" in files and Path(folder).parent.name == "fpga_manager":
            state = (Path(folder) / "state").read_text().strip()
        if "afu_id" in files:
            afu = (Path(folder) / "afu_id").read_text().strip()
    return state, afu


def camera_at(url: str, names: Iterable[str]) -> str:
    """Which of ``names`` the camera streaming at ``url`` is, read from the marks it paints
    into its pictures; GroundTruthError when it is none of them or shows no marked picture."""
    args = ["camera", "identify", url]
    for name in names:
        args += ["--name", name]
    try:
        found: str = json.loads(_fakehw(*args))["camera"]
    except GroundTruthError as exc:  # never show the URL's password
        raise GroundTruthError(str(exc).replace(url, hidden(url))) from None
    return found


def hidden(url: str) -> str:
    """``url`` without its user and password."""
    scheme, sep, rest = url.partition("://")
    return scheme + sep + rest.split("@", 1)[-1]


def set_health(root: Path, device: str, healthy: bool, reason: str = "") -> None:
    """Mark a fakehw device healthy or unhealthy, where its kernel driver would show it."""
    _fakehw("health", "--root", str(root), device, "healthy" if healthy else "unhealthy",
            "--reason", reason)


def unplug(root: Path, device: str) -> None:
    """Hot-unplug a fakehw device, with everything hanging off it."""
    _fakehw("unplug", "--root", str(root), device)


def replug(root: Path, device: str) -> None:
    _fakehw("replug", "--root", str(root), device)

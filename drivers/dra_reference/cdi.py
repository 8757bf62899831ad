"""Transient CDI spec files: how a prepared claim reaches the container runtime.

The kubelet passes the CDI device IDs we return to the runtime, which looks them up in spec
files under ``/etc/cdi`` and ``/var/run/cdi``. One spec file per claim, named the way CDI's
``GenerateTransientSpecName`` names them, lets unprepare delete exactly what prepare made, and
device names prefixed with the claim UID keep two claims on one device from colliding in the
runtime's registry. Files are replaced atomically: a runtime scanning the directory must never
read half a spec. The rules below (names, version) follow container-device-interface v1.1.1
(``pkg/parser/parser.go``, ``specs-go/version.go``): a loader rejects a spec whose
``cdiVersion`` is lower than its fields need, and old runtimes reject versions they do not
know, so each file carries the lowest version its content needs.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dra_reference.errors import InvalidCDISpecError

DEFAULT_SPEC_DIR = Path("/var/run/cdi")
_VENDOR_OR_CLASS = re.compile(r"[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?")
_DEVICE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?")
_NODE_TYPES = ("", "b", "c", "u", "p")


@dataclass(frozen=True)
class DeviceNode:
    """A device node for the container; with ``type`` and a major the runtime needs no host node."""

    path: str
    host_path: str = ""
    type: str = ""
    major: int = 0
    minor: int = 0
    permissions: str = ""

    def to_json(self) -> dict[str, Any]:
        raw = {"path": self.path, "hostPath": self.host_path, "type": self.type,
               "major": self.major, "minor": self.minor, "permissions": self.permissions}
        return {key: value for key, value in raw.items() if value}  # CDI's omitempty


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    type: str = ""
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        raw = {"hostPath": self.host_path, "containerPath": self.container_path,
               "type": self.type, "options": list(self.options)}
        return {key: value for key, value in raw.items() if value}


@dataclass(frozen=True)
class ContainerEdits:
    """What a device adds to a container; ``env`` entries are ``KEY=VALUE``."""

    env: tuple[str, ...] = ()
    device_nodes: tuple[DeviceNode, ...] = ()
    mounts: tuple[Mount, ...] = ()

    def is_empty(self) -> bool:
        return not (self.env or self.device_nodes or self.mounts)

    def to_json(self) -> dict[str, Any]:
        raw = {"env": list(self.env),
               "deviceNodes": [node.to_json() for node in self.device_nodes],
               "mounts": [mount.to_json() for mount in self.mounts]}
        return {key: value for key, value in raw.items() if value}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ContainerEdits:
        nodes = tuple(DeviceNode(n["path"], n.get("hostPath", ""), n.get("type", ""),
                                 n.get("major", 0), n.get("minor", 0), n.get("permissions", ""))
                      for n in raw.get("deviceNodes", ()))
        mounts = tuple(Mount(m["hostPath"], m["containerPath"], m.get("type", ""),
                             tuple(m.get("options", ()))) for m in raw.get("mounts", ()))
        return cls(tuple(raw.get("env", ())), nodes, mounts)

    def validate(self) -> None:
        """Refuse what CDI's ``ContainerEdits.Validate`` refuses, before a runtime does."""
        for entry in self.env:
            if entry.find("=") <= 0:
                raise InvalidCDISpecError(f"CDI env entry {entry!r} is not KEY=VALUE")
        for node in self.device_nodes:
            if not node.path or node.type not in _NODE_TYPES:
                raise InvalidCDISpecError(f"CDI device node {node!r}: needs a path and a "
                                          f"type among {_NODE_TYPES}")
            if node.permissions not in ("", "none") and node.permissions.strip("rwm"):
                raise InvalidCDISpecError(f"CDI device node {node.path}: permissions "
                                          f"{node.permissions!r} are not a subset of 'rwm'")
        for mount in self.mounts:
            if not mount.host_path or not mount.container_path:
                raise InvalidCDISpecError(f"CDI mount {mount!r} needs both paths")


def validate_name(kind: str, name: str) -> None:
    """Check a vendor, class or device name against CDI's parser."""
    pattern = _DEVICE if kind == "device" else _VENDOR_OR_CLASS
    if not pattern.fullmatch(name):
        rule = ("letters, digits, '_-.:', starting and ending with a letter or digit"
                if kind == "device" else
                "letters, digits, '_-.', starting with a letter, ending with a letter or digit")
        raise InvalidCDISpecError(f"invalid CDI {kind} name {name!r}: use {rule}")


def minimum_version(spec: Mapping[str, Any]) -> str:
    """The lowest ``cdiVersion`` the fields this module writes need (CDI's requiredVersion)."""
    _, _, cdi_class = spec["kind"].partition("/")
    if "." in cdi_class:
        return "0.6.0"
    devices = spec.get("devices", [])
    edits = [device["containerEdits"] for device in devices]
    if any(device["name"][:1].isdigit() for device in devices) or any(
            node.get("hostPath") for edit in edits for node in edit.get("deviceNodes", [])):
        return "0.5.0"
    if any(mount.get("type") for edit in edits for mount in edit.get("mounts", [])):
        return "0.4.0"
    return "0.3.0"


class SpecDir:
    """One vendor/class's transient specs in one directory, a spec file per claim UID."""

    def __init__(self, directory: Path, kind: str) -> None:
        vendor, _, cdi_class = kind.partition("/")
        validate_name("vendor", vendor)
        validate_name("class", cdi_class)
        self.directory = directory
        self.kind = kind
        self._prefix = f"{vendor}-{cdi_class}_"

    def spec_path(self, claim_uid: str) -> Path:
        return self.directory / f"{self._prefix}{claim_uid.replace('/', '_')}.json"

    def write_claim(self, claim_uid: str, devices: Sequence[tuple[str, ContainerEdits]], *,
                    durable: bool = True) -> list[str | None]:
        """Write the claim's spec; return each device's CDI ID (None: nothing to inject).

        ``durable=False`` skips the fsyncs: readers still see the old file or the new one,
        but a power cut may leave either (or a torn one), so the caller must be able to
        rewrite it from a record of its own (``matches`` tells whether that is needed).
        """
        text, ids = self.render_claim(claim_uid, devices)
        if text is None:  # CDI refuses a spec without devices
            self.remove_claim(claim_uid)
        else:
            write_atomically(self.spec_path(claim_uid), text, durable=durable)
        return ids

    def render_claim(self, claim_uid: str, devices: Sequence[tuple[str, ContainerEdits]],
                     ) -> tuple[str | None, list[str | None]]:
        """The claim's spec file text (None: no device needs one) and each device's CDI ID."""
        names = _device_names(claim_uid, [name for name, _ in devices])
        entries = []
        for name, (_, edits) in zip(names, devices, strict=True):
            if not edits.is_empty():
                edits.validate()
                entries.append({"name": name, "containerEdits": edits.to_json()})
        ids: list[str | None] = [None if edits.is_empty() else f"{self.kind}={name}"
                                 for name, (_, edits) in zip(names, devices, strict=True)]
        if not entries:
            return None, ids
        spec: dict[str, Any] = {"cdiVersion": "", "kind": self.kind, "devices": entries}
        # One device per line, made by the json module's C encoder (``indent`` turns it off
        # and took a millisecond per claim of eight devices).
        head = (f'{{"cdiVersion": {json.dumps(minimum_version(spec))}, '
                f'"kind": {json.dumps(self.kind)}, "devices": [')
        return head + "\n" + ",\n".join(json.dumps(entry) for entry in entries) + "\n]}\n", ids

    def matches(self, claim_uid: str, devices: Sequence[tuple[str, ContainerEdits]]) -> bool:
        """Whether the claim's spec file on disk is exactly what ``write_claim`` would write."""
        text, _ = self.render_claim(claim_uid, devices)
        try:
            current = self.spec_path(claim_uid).read_text(encoding="utf-8")
        except FileNotFoundError:
            return text is None
        except (OSError, UnicodeDecodeError):
            return False
        return current == text

    def remove_claim(self, claim_uid: str) -> bool:
        try:
            self.spec_path(claim_uid).unlink()
        except FileNotFoundError:
            return False
        return True

    def claim_uids(self) -> set[str]:
        """UIDs of the claims that have a spec file here (ours only, by file name)."""
        if not self.directory.is_dir():
            return set()
        return {path.name[len(self._prefix):-len(".json")]
                for path in self.directory.glob(f"{self._prefix}*.json")}


def _device_names(claim_uid: str, devices: Sequence[str]) -> list[str]:
    """``<claimUID>-<device>``, with a counter when a claim holds one device twice (shares)."""
    names: list[str] = []
    for device in devices:
        name, count = f"{claim_uid}-{device}", 1
        while name in names:
            count += 1
            name = f"{claim_uid}-{device}-{count}"
        validate_name("device", name)
        names.append(name)
    return names


def write_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """Temp file in the same directory, fsync, rename, fsync the directory: readers and a
    crash see the old file or the new one, never a torn one. Only root may read the file:
    a claim's spec and the checkpoint may hold per-claim secrets (a camera credential), and
    the container runtime reading specs runs as root.

    ``durable=False`` skips both fsyncs. Other processes still see the old file or the new
    one, and so does this one after it is killed (the page cache outlives a process); only a
    power cut or a kernel crash may lose or tear the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A leading dot and no .json suffix: CDI's directory scan ignores the temp file.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if not durable:
        return
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

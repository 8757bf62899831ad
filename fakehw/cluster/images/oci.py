"""Write container images as OCI image-layout tarballs, with nothing but the standard library.

No registry is reachable from the machines this project runs on, so images are made locally
and handed to containerd with `ctr images import`. An OCI image layout is only JSON documents
and tar layers addressed by their sha256, so Python writes one directly. Every timestamp and
owner is fixed, so the same input gives the same digests.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"

_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}


def host_architecture() -> str:
    """The Go/OCI name of this machine's architecture (amd64, arm64, ...)."""
    machine = platform.machine()
    return _ARCHITECTURES.get(machine, machine)


@dataclass(frozen=True)
class Entry:
    """One file system entry of a layer: a file (from the host or bytes), a link or a directory."""

    path: str
    source: Path | None = None
    data: bytes | None = None
    link: str | None = None
    mode: int = 0o755
    mtime: int = 0  # Python checks a .pyc against its source's mtime: keep the source's


@dataclass(frozen=True)
class ImageSpec:
    """What an image holds and how it starts."""

    name: str
    entries: Sequence[Entry]
    entrypoint: Sequence[str] = ()
    cmd: Sequence[str] = ()
    env: Sequence[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    labels: dict[str, str] = field(default_factory=dict)


def _tar_info(name: str, kind: bytes, mode: int, mtime: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type = kind
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _parents(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def layer_bytes(entries: Sequence[Entry]) -> bytes:
    """An uncompressed layer tar holding `entries` and the directories above them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directories = sorted({d for e in entries for d in _parents(e.path)})
        for directory in directories:
            tar.addfile(_tar_info(directory, tarfile.DIRTYPE, 0o755))
        for entry in sorted(entries, key=lambda e: e.path):
            if entry.link is not None:
                info = _tar_info(entry.path, tarfile.SYMTYPE, 0o777)
                info.linkname = entry.link
                tar.addfile(info)
            elif entry.source is not None or entry.data is not None:
                data = entry.source.read_bytes() if entry.source is not None else entry.data or b""
                info = _tar_info(entry.path, tarfile.REGTYPE, entry.mode, entry.mtime)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(_tar_info(entry.path, tarfile.DIRTYPE, entry.mode))
    return buffer.getvalue()


def _descriptor(media_type: str, blob: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
        **extra,
    }


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def image_blobs(spec: ImageSpec) -> tuple[dict[str, Any], list[bytes]]:
    """The index.json document and every blob (layer, config, manifest) of the image."""
    arch = host_architecture()
    layer = layer_bytes(spec.entries)
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = _json({
        "architecture": arch,
        "os": "linux",
        "config": {"Entrypoint": list(spec.entrypoint) or None, "Cmd": list(spec.cmd) or None,
                   "Env": list(spec.env), "Labels": spec.labels or None},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    })
    manifest = _json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": _descriptor(CONFIG_MEDIA_TYPE, config),
        "layers": [_descriptor(LAYER_MEDIA_TYPE, layer)],
    })
    tag = spec.name.rsplit(":", 1)[1] if ":" in spec.name.rsplit("/", 1)[-1] else "latest"
    annotations = {"io.containerd.image.name": spec.name, "org.opencontainers.image.ref.name": tag}
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [_descriptor(MANIFEST_MEDIA_TYPE, manifest, annotations=annotations,
                                  platform={"architecture": arch, "os": "linux"})],
    }
    return index, [layer, config, manifest]


def write_oci_archive(spec: ImageSpec, destination: Path) -> Path:
    """Write `spec` as an OCI image-layout tar at `destination` and return the path."""
    index, blobs = image_blobs(spec)
    files = {"oci-layout": _json({"imageLayoutVersion": "1.0.0"}), "index.json": _json(index)}
    for blob in blobs:
        files[f"blobs/sha256/{hashlib.sha256(blob).hexdigest()}"] = blob
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(destination, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("blobs", "blobs/sha256"):
            tar.addfile(_tar_info(directory, tarfile.DIRTYPE, 0o755))
        for name, data in sorted(files.items()):
            info = _tar_info(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return destination

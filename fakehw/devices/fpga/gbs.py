"""Intel's GBS bitstream container: a 16-byte magic, a length, JSON metadata, then the payload.

OPAE's packager writes ``XeonFPGA\\xb7GBSv001`` (two little-endian words
``0x414750466e6f6558`` and ``0x31303076534247b7``), a little-endian 32-bit metadata length and
that many bytes of JSON; the rest is the raw bitstream. The metadata names the PR interface the
image was built for (``afu-image.interface-uuid``, compared with the region's ``compat_id``)
and the AFU it loads (``afu-image.accelerator-clusters[0].accelerator-type-uuid``, which the
port's ``afu_id`` shows afterwards). Intel's plugin refuses metadata of 4096 bytes or more, so
this reader and writer do too: a file fakehw accepts is one the real tools accept.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from fakehw.devices.fpga.errors import BitstreamError

MAGIC = b"XeonFPGA\xb7GBSv001"
HEADER = struct.Struct("<16sI")
MAX_METADATA = 4096  # exclusive
AFU_MAGIC_NO = 488605312  # afu-image.magic-no in OPAE-packaged images
T = TypeVar("T")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Bitstream:
    interface_id: str  # 32 lowercase hex digits, as compat_id shows it
    afu_id: str  # 32 lowercase hex digits, as afu_id shows it
    payload: bytes
    metadata: dict[str, object] = field(default_factory=dict, compare=False)


def normalize_id(value: str, what: str) -> str:
    """``69528DB6-EB31-...`` -> ``69528db6eb31...``; anything but 128 bits is an error."""
    text = str(value).replace("-", "").lower()
    if not _HEX32.match(text):
        raise BitstreamError(f"{what} {value!r} is not a 128-bit id; "
                             "write 32 hex digits (dashes allowed)")
    return text


def dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def make_bitstream(interface_id: str, afu_id: str, payload: bytes = b"", *,
                   name: str = "fakehw") -> bytes:
    """A GBS image as OPAE's packager lays it out, for ``interface_id`` loading ``afu_id``."""
    image = {"interface-uuid": dashed(normalize_id(interface_id, "interface id")),
             "magic-no": AFU_MAGIC_NO, "power": 0,
             "accelerator-clusters": [{"name": name, "total-contexts": 1,
                                       "accelerator-type-uuid": dashed(normalize_id(afu_id,
                                                                                    "AFU id"))}]}
    metadata = json.dumps({"version": 1, "afu-image": image}).encode()
    if len(metadata) >= MAX_METADATA:
        raise BitstreamError(f"metadata of {len(metadata)} bytes is too long for a GBS header "
                             f"(limit {MAX_METADATA - 1}); use a shorter name")
    return HEADER.pack(MAGIC, len(metadata)) + metadata + payload


def write_bitstream(path: Path, interface_id: str, afu_id: str, payload: bytes = b"") -> Path:
    """Write a GBS file (the ``fakehw fpga make-bitstream`` command) and return its path."""
    path.write_bytes(make_bitstream(interface_id, afu_id, payload))
    return path


def read_bitstream(path: Path | str) -> Bitstream:
    """Read and check a GBS file; any flaw is a ``BitstreamError`` naming the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BitstreamError(f"{path}: cannot read the bitstream ({exc.strerror}); "
                             "pass the path of a .gbs file") from None
    return parse_bitstream(data, str(path))


def parse_bitstream(data: bytes, source: str = "<bytes>") -> Bitstream:
    try:
        return _decode(data)
    except (_FlawError, BitstreamError) as exc:
        raise BitstreamError(f"{source}: not a valid GBS bitstream: {exc}") from None


class _FlawError(Exception):
    """Something wrong inside the file; ``parse_bitstream`` adds the file's name."""


def _decode(data: bytes) -> Bitstream:
    metadata = _metadata(data)
    image = _field(metadata, "afu-image", dict)
    interface = _field(image, "interface-uuid", str, "afu-image.")
    clusters = _field(image, "accelerator-clusters", list, "afu-image.")
    if not clusters or not isinstance(clusters[0], dict):
        raise _FlawError("afu-image.accelerator-clusters lists no accelerator")
    afu = _field(clusters[0], "accelerator-type-uuid", str, "afu-image.accelerator-clusters[0].")
    length = HEADER.unpack_from(data)[1]
    return Bitstream(normalize_id(interface, "afu-image.interface-uuid"),
                     normalize_id(afu, "accelerator-type-uuid"), data[HEADER.size + length:],
                     metadata)


def _metadata(data: bytes) -> dict[str, object]:
    if len(data) < HEADER.size:
        raise _FlawError(f"only {len(data)} bytes, shorter than the {HEADER.size}-byte header")
    magic, length = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise _FlawError(f"starts with {magic.hex()}, not the GBS magic {MAGIC.hex()} "
                         "(XeonFPGA\\xb7GBSv001)")
    if not 0 < length < MAX_METADATA:
        raise _FlawError(f"metadata length {length} is outside 1..{MAX_METADATA - 1}")
    if HEADER.size + length > len(data):
        raise _FlawError(f"metadata length {length} runs past the end of the "
                         f"{len(data)}-byte file")
    try:
        document = json.loads(data[HEADER.size:HEADER.size + length].decode())
    except ValueError as exc:  # bad UTF-8 or bad JSON
        raise _FlawError(f"metadata is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise _FlawError("metadata is not a JSON object")
    return document


def _field(mapping: dict[str, object], key: str, kind: type[T], where: str = "") -> T:
    value = mapping.get(key)
    if not isinstance(value, kind):
        raise _FlawError(f"metadata has no {where}{key} ({kind.__name__})")
    return value

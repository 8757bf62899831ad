"""GBS bitstreams: written ones read back, and every malformed file is named and explained."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from fakehw.devices.fpga import BitstreamError, make_bitstream, read_bitstream, write_bitstream
from fakehw.devices.fpga.gbs import MAGIC, parse_bitstream

pytestmark = pytest.mark.unit

INTERFACE = "69528db6eb31577a8c3668f9faa081f6"
AFU = "d8424dc4a4a3c413f89e433683f9040b"


def gbs(metadata: object, payload: bytes = b"rbf") -> bytes:
    text = json.dumps(metadata).encode()
    return MAGIC + struct.pack("<I", len(text)) + text + payload


def test_round_trip(tmp_path: Path) -> None:
    path = write_bitstream(tmp_path / "nlb.gbs", INTERFACE.upper(), AFU, b"\x00\x01payload")
    image = read_bitstream(path)
    assert (image.interface_id, image.afu_id, image.payload) == (INTERFACE, AFU,
                                                                 b"\x00\x01payload")


def test_layout_is_opaes() -> None:
    data = make_bitstream(INTERFACE, AFU, b"PAYLOAD")
    # The two little-endian GUID words Intel's reader compares against.
    assert struct.unpack_from("<QQ", data) == (0x414750466E6F6558, 0x31303076534247B7)
    length = struct.unpack_from("<I", data, 16)[0]
    metadata = json.loads(data[20:20 + length])
    image = metadata["afu-image"]
    assert image["interface-uuid"] == "69528db6-eb31-577a-8c36-68f9faa081f6"
    assert image["accelerator-clusters"][0]["accelerator-type-uuid"] == (
        "d8424dc4-a4a3-c413-f89e-433683f9040b")
    assert data[20 + length:] == b"PAYLOAD"


def test_ids_with_dashes_and_capitals_are_accepted() -> None:
    image = parse_bitstream(gbs({"afu-image": {
        "interface-uuid": "69528DB6-EB31-577A-8C36-68F9FAA081F6",
        "accelerator-clusters": [{"accelerator-type-uuid": AFU}]}}))
    assert image.interface_id == INTERFACE


GOOD_IMAGE = {"interface-uuid": INTERFACE, "accelerator-clusters": [
    {"accelerator-type-uuid": AFU}]}


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "only 0 bytes"),
    (b"XeonFPGA\xb7GBSv00", "only 15 bytes"),
    (b"NotAGBSfileAtAll" + struct.pack("<I", 2) + b"{}", "not the GBS magic"),
    (MAGIC + struct.pack("<I", 0), "metadata length 0"),
    (MAGIC + struct.pack("<I", 4096) + b"x" * 5000, "metadata length 4096"),
    (MAGIC + struct.pack("<I", 100) + b"{}", "runs past the end"),
    (MAGIC + struct.pack("<I", 3) + b"{x}", "not JSON"),
    (MAGIC + struct.pack("<I", 2) + b"\xff\xfe", "not JSON"),
    (gbs([1, 2]), "not a JSON object"),
    (gbs({"version": 1}), "no afu-image"),
    (gbs({"afu-image": {"accelerator-clusters": []}}), "no afu-image.interface-uuid"),
    (gbs({"afu-image": {"interface-uuid": INTERFACE}}), "accelerator-clusters"),
    (gbs({"afu-image": {"interface-uuid": INTERFACE, "accelerator-clusters": []}}),
     "lists no accelerator"),
    (gbs({"afu-image": {"interface-uuid": INTERFACE, "accelerator-clusters": [{}]}}),
     r"accelerator-clusters\[0\].accelerator-type-uuid"),
    (gbs({"afu-image": {**GOOD_IMAGE, "interface-uuid": "abc"}}),
     "interface-uuid 'abc' is not a 128-bit id"),
])
def test_malformed_files_name_the_file_and_the_flaw(tmp_path: Path, data: bytes,
                                                    problem: str) -> None:
    path = tmp_path / "broken.gbs"
    path.write_bytes(data)
    with pytest.raises(BitstreamError, match=problem) as caught:
        read_bitstream(path)
    assert str(caught.value).startswith(f"{path}: not a valid GBS bitstream: ")
    assert isinstance(caught.value, ValueError)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BitstreamError, match=re.escape(f"{tmp_path}/nope.gbs: cannot read")):
        read_bitstream(tmp_path / "nope.gbs")


@pytest.mark.parametrize(("interface", "afu", "problem"), [
    ("xyz", AFU, "interface id 'xyz'"),
    (INTERFACE, AFU + "00", "AFU id"),
])
def test_writer_refuses_bad_ids(interface: str, afu: str, problem: str) -> None:
    with pytest.raises(BitstreamError, match=problem):
        make_bitstream(interface, afu)


def test_writer_refuses_metadata_intels_reader_would_refuse() -> None:
    with pytest.raises(BitstreamError, match="too long"):
        make_bitstream(INTERFACE, AFU, name="x" * 5000)

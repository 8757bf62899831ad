"""The checkpoint file: round trips, damage detection, two writers (no sockets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dra_reference.cdi import ContainerEdits, DeviceNode
from dra_reference.checkpoint import Checkpoint, CheckpointEntry, ClaimStatus, PreparedRecord
from dra_reference.errors import CheckpointCorruptError
from dra_reference.plugin.model import AllocatedDevice, ClaimRef, OpaqueConfig, PreparedDevice

pytestmark = pytest.mark.unit

ALLOCATED = AllocatedDevice("gpu", "node-a", "gpu-0", subrequest="big", share_id="s1",
                            admin_access=True,
                            configs=(OpaqueConfig("FromClass", (), {"A": "1"}),),
                            parameters={"A": "1"})
ENTRY = CheckpointEntry(
    ClaimRef("ns", "claim", "uid-1"), ClaimStatus.PREPARED, (ALLOCATED,),
    (PreparedRecord(PreparedDevice(ALLOCATED, ContainerEdits(
        env=("A=1",), device_nodes=(DeviceNode("/dev/x", type="c", major=1, minor=2),)),
        {"vf": 3, "nested": {"ok": True}}), ("fakehw.dev/gpu=uid-1-gpu-0",)),))


def test_entries_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    Checkpoint.load(path).put(ENTRY)
    assert Checkpoint.load(path).get("uid-1") == ENTRY
    assert Checkpoint.load(path).entries() == [ENTRY]


def test_a_missing_file_is_an_empty_checkpoint(tmp_path: Path) -> None:
    assert Checkpoint.load(tmp_path / "none.json").entries() == []


def test_remove_writes_through(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    checkpoint = Checkpoint.load(path)
    checkpoint.put(ENTRY)
    checkpoint.remove("uid-1")
    checkpoint.remove("uid-unknown")
    assert json.loads(path.read_text())["claims"] == {}


def test_status_changes_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    Checkpoint.load(path).put(ENTRY.with_status(ClaimStatus.UNPREPARING))
    entry = Checkpoint.load(path).get("uid-1")
    assert entry is not None
    assert entry.status is ClaimStatus.UNPREPARING


@pytest.mark.parametrize(("damage", "message"), [
    (lambda text: text.replace("gpu-0", "gpu-1"), "checksum mismatch"),
    (lambda text: text[: len(text) // 2], "unreadable"),
    (lambda text: "[]", "unreadable"),
    (lambda text: text.replace("checkpoint/v1", "checkpoint/v9"), "format"),
    (lambda text: json.dumps({"format": "dra-reference.fakehw.dev/checkpoint/v1",
                              "checksum": "sha256:x"}), "unreadable"),
])
def test_damage_is_a_clear_error_naming_the_file(tmp_path: Path, damage: object,
                                                 message: str) -> None:
    path = tmp_path / "checkpoint.json"
    Checkpoint.load(path).put(ENTRY)
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    with pytest.raises(CheckpointCorruptError, match=message) as caught:
        Checkpoint.load(path)
    assert str(path) in str(caught.value)
    assert "move it aside" in str(caught.value)


def test_two_instances_do_not_lose_each_others_entries(tmp_path: Path) -> None:
    """During a rolling update two plugin instances share one checkpoint file."""
    path = tmp_path / "checkpoint.json"
    old, new = Checkpoint.load(path), Checkpoint.load(path)
    old.put(ENTRY)
    other = CheckpointEntry(ClaimRef("ns", "other", "uid-2"), ClaimStatus.PREPARING)
    new.put(other)
    assert {e.claim.uid for e in Checkpoint.load(path).entries()} == {"uid-1", "uid-2"}
    assert old.get("uid-2") == other

"""Restarts and crashes: what the checkpoint lets a new plugin instance do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dra_reference import cdi as cdi_module
from dra_reference import checkpoint as checkpoint_module
from dra_reference.cdi import write_atomically
from dra_reference.checkpoint import Checkpoint, CheckpointEntry, ClaimStatus
from dra_reference.errors import CheckpointCorruptError
from dra_reference.plugin.model import AllocatedDevice, ClaimRef

from .conftest import NODE, FakePreparer, Plugin, devices_of

pytestmark = pytest.mark.socket
UID = "3c9e5b7a-0d41-4e8f-a2b6-7c1d9e0f5a33"


def test_restart_answers_identically_without_preparing_again(plugin: Plugin) -> None:
    claim = plugin.add_claim("pod-gpu", UID, devices=["gpu-0", "gpu-1"])
    before = devices_of(plugin.kubelet.prepare(claim), UID)
    plugin.restart()
    after = devices_of(plugin.kubelet.prepare(claim), UID)
    assert after == before
    assert plugin.preparer.prepared_uids() == [UID]


def test_restart_then_unprepare_hands_back_the_undo_data(plugin: Plugin) -> None:
    claim = plugin.add_claim("pod-gpu", UID, devices=["gpu-0"])
    plugin.kubelet.prepare(claim)
    plugin.restart()
    assert plugin.kubelet.unprepare(claim).claims[UID].error == ""
    [entry] = plugin.preparer.unprepared
    assert entry.devices[0].prepared.undo == {"reset": "gpu-0"}
    assert plugin.cdi_files() == []


def crash(plugin: Plugin, status: ClaimStatus) -> CheckpointEntry:
    """Stop the plugin and leave an entry as a crash in the middle of a step would."""
    plugin.stop()
    entry = CheckpointEntry(ClaimRef("default", "pod-gpu", UID), status,
                            (AllocatedDevice("gpu", NODE, "gpu-4"),))
    Checkpoint.load(plugin.checkpoint_path).put(entry)
    return entry


def test_a_crash_mid_prepare_is_rolled_back_at_start(plugin: Plugin) -> None:
    crash(plugin, ClaimStatus.PREPARING)
    plugin.cdi_dir.mkdir(exist_ok=True)
    (plugin.cdi_dir / f"fakehw.dev-gpu_{UID}.json").write_text("{}")  # written before the crash
    plugin.generation += 1
    plugin.start()
    [entry] = plugin.preparer.rolled_back
    assert entry.claim.uid == UID
    assert [d.device for d in entry.allocated] == ["gpu-4"]
    assert plugin.cdi_files() == []
    assert json.loads(plugin.checkpoint_path.read_text())["claims"] == {}


def test_a_crash_mid_unprepare_is_finished_at_start(plugin: Plugin) -> None:
    crash(plugin, ClaimStatus.UNPREPARING)
    plugin.generation += 1
    plugin.start()
    assert [e.claim.uid for e in plugin.preparer.unprepared] == [UID]
    assert plugin.preparer.rolled_back == []
    assert json.loads(plugin.checkpoint_path.read_text())["claims"] == {}


def test_a_failing_rollback_at_start_does_not_stop_the_plugin(plugin: Plugin) -> None:
    crash(plugin, ClaimStatus.PREPARING)
    plugin.preparer.broken_rollback = True
    plugin.generation += 1
    plugin.start()
    assert plugin.kubelet.get_info().name
    assert json.loads(plugin.checkpoint_path.read_text())["claims"][UID]["status"] == "preparing"


def test_a_vanished_spec_of_a_prepared_claim_is_rewritten(plugin: Plugin) -> None:
    claim = plugin.add_claim("pod-gpu", UID)
    plugin.kubelet.prepare(claim)
    [name] = plugin.cdi_files()
    written = (plugin.cdi_dir / name).read_text()
    plugin.stop()
    (plugin.cdi_dir / name).unlink()  # /var/run/cdi is a tmpfs: a reboot empties it
    plugin.generation += 1
    plugin.start()
    assert (plugin.cdi_dir / name).read_text() == written


def test_stray_specs_are_removed_at_start(plugin: Plugin) -> None:
    plugin.stop()
    plugin.cdi_dir.mkdir(exist_ok=True)
    stray = plugin.cdi_dir / "fakehw.dev-gpu_uid-nobody.json"
    foreign = plugin.cdi_dir / "nvidia.com-gpu_uid-nobody.json"
    stray.write_text("{}")
    foreign.write_text("{}")
    plugin.generation += 1
    plugin.start()
    assert not stray.exists()
    assert foreign.exists()  # another driver's business


def test_a_corrupt_checkpoint_stops_the_start_and_names_the_file(short_dir: Path) -> None:
    running = Plugin(short_dir).start()
    running.kubelet.prepare(running.add_claim("pod-gpu", UID))
    path = running.checkpoint_path
    running.stop()
    path.write_text(path.read_text().replace("gpu-0", "gpu-7"))
    with pytest.raises(CheckpointCorruptError, match=str(path)):
        Plugin(short_dir, generation=1).start()


def test_a_spec_unlike_the_checkpoint_is_rewritten_at_start(plugin: Plugin) -> None:
    """Specs are written without fsync: after a power cut one may be torn or stale."""
    claim = plugin.add_claim("pod-gpu", UID)
    plugin.kubelet.prepare(claim)
    [name] = plugin.cdi_files()
    written = (plugin.cdi_dir / name).read_text()
    plugin.stop()
    (plugin.cdi_dir / name).write_text(written[: len(written) // 2])
    plugin.generation += 1
    plugin.start()
    assert (plugin.cdi_dir / name).read_text() == written


@pytest.mark.parametrize(("changes", "statuses"), [(True, ["preparing"]), (False, [])])
def test_the_preparing_record_is_kept_only_when_devices_change(
        short_dir: Path, changes: bool, statuses: list[str]) -> None:
    running = Plugin(short_dir, preparer=FakePreparer(changes=changes)).start()
    seen: list[str] = []

    def look(request: object) -> None:
        claims = json.loads(running.checkpoint_path.read_text())["claims"] \
            if running.checkpoint_path.exists() else {}
        seen.extend(entry["status"] for entry in claims.values())

    running.preparer.on_prepare = look
    try:
        devices_of(running.kubelet.prepare(running.add_claim("pod-gpu", UID)), UID)
    finally:
        running.stop()
    assert seen == statuses


@pytest.mark.parametrize(("changes", "prepare_writes", "unprepare_writes"),
                         [(True, 2, 2), (False, 1, 1)])
def test_durable_writes_per_claim(short_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                  changes: bool, prepare_writes: int,
                                  unprepare_writes: int) -> None:
    """Checkpoint writes are durable, spec writes are not (recovery rewrites specs)."""
    writes: list[tuple[str, bool]] = []

    def recording(path: Path, text: str, *, durable: bool = True) -> None:
        writes.append((path.name, durable))
        write_atomically(path, text, durable=durable)

    monkeypatch.setattr(checkpoint_module, "write_atomically", recording)
    monkeypatch.setattr(cdi_module, "write_atomically", recording)
    running = Plugin(short_dir, preparer=FakePreparer(changes=changes)).start()
    claim = running.add_claim("pod-gpu", UID)
    try:
        devices_of(running.kubelet.prepare(claim), UID)
        prepared, writes[:] = list(writes), []
        assert running.kubelet.unprepare(claim).claims[UID].error == ""
    finally:
        running.stop()
    checkpoint = running.checkpoint_path.name
    assert prepared.count((checkpoint, True)) == prepare_writes
    assert [durable for name, durable in prepared if name != checkpoint] == [False]  # the spec
    assert writes == [(checkpoint, True)] * unprepare_writes
    assert running.preparer.unprepared[0].claim.uid == UID

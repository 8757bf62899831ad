"""Restarts and crashes: what the checkpoint lets a new plugin instance do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dra_reference.checkpoint import Checkpoint, CheckpointEntry, ClaimStatus
from dra_reference.errors import CheckpointCorruptError
from dra_reference.plugin.model import AllocatedDevice, ClaimRef

from .conftest import NODE, Plugin, devices_of

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

"""Registration and socket lifecycle, as the kubelet's plugin watcher sees them."""

from __future__ import annotations

import logging
import os
import signal
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from dra_reference.errors import ConfigurationError
from dra_reference.plugin.server import PluginServer, run_until_signal
from dra_reference.plugin.settings import PluginSettings

from .conftest import CDI_KIND, DRIVER, Kubelet, Plugin, QueueHealthSource

pytestmark = pytest.mark.socket

ALL_SERVICES = ["v1.DRAPlugin", "v1beta1.DRAPlugin",
                "v1.DRAResourceHealth", "v1alpha1.DRAResourceHealth"]


def is_socket(path: Path) -> bool:
    return path.exists() and stat.S_ISSOCK(path.lstat().st_mode)


def test_get_info_describes_the_dra_socket_and_every_service(health_plugin: Plugin) -> None:
    info = health_plugin.kubelet.get_info()
    settings = health_plugin.server.settings
    assert info.type == "DRAPlugin"
    assert info.name == DRIVER
    assert info.endpoint == str(settings.dra_socket)
    assert Path(info.endpoint).is_absolute()
    assert list(info.supported_versions) == ALL_SERVICES


def test_without_health_source_health_is_not_advertised(plugin: Plugin) -> None:
    assert list(plugin.kubelet.get_info().supported_versions) == [
        "v1.DRAPlugin", "v1beta1.DRAPlugin"]


def test_socket_names_are_per_instance(plugin: Plugin) -> None:
    settings = plugin.server.settings
    assert settings.registration_socket == (
        plugin.root / "registry" / f"{DRIVER}-{settings.instance_id}-reg.sock")
    assert settings.dra_socket == (
        plugin.root / "plugins" / DRIVER / f"dra-{settings.instance_id}.sock")
    assert is_socket(settings.registration_socket)
    assert is_socket(settings.dra_socket)


def test_registration_status_is_recorded(plugin: Plugin) -> None:
    assert plugin.server.registration.status is None
    plugin.kubelet.notify(True)
    status = plugin.server.registration.status
    assert status is not None
    assert status.registered
    assert status.error == ""


def test_rejection_is_recorded_and_logged(plugin: Plugin,
                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        plugin.kubelet.notify(False, "no handler registered for plugin type: DRAPlugin")
    assert plugin.server.registration.notified.is_set()
    status = plugin.server.registration.status
    assert status is not None
    assert not status.registered
    assert "no handler registered" in status.error
    assert "no handler registered" in caplog.text


def test_sockets_are_gone_after_stop(short_dir: Path) -> None:
    running = Plugin(short_dir, health=QueueHealthSource()).start()
    settings = running.server.settings
    running.stop()
    assert not settings.registration_socket.exists()
    assert not settings.dra_socket.exists()


def test_stale_socket_is_replaced(short_dir: Path) -> None:
    settings = Plugin(short_dir).settings()
    for path in (settings.registration_socket, settings.dra_socket):
        path.parent.mkdir(parents=True)
        dead = socket.socket(socket.AF_UNIX)
        dead.bind(str(path))  # bound and closed: a killed predecessor's file
        dead.close()
    running = Plugin(short_dir).start()
    assert running.kubelet.get_info().name == DRIVER
    running.stop()


def test_a_regular_file_in_the_way_is_not_deleted(short_dir: Path) -> None:
    settings = Plugin(short_dir).settings()
    settings.dra_socket.parent.mkdir(parents=True)
    settings.dra_socket.write_text("not a socket")
    with pytest.raises(ConfigurationError, match="not a socket"):
        Plugin(short_dir).start()
    assert settings.dra_socket.read_text() == "not a socket"
    assert not settings.registration_socket.exists()


def test_two_instances_serve_side_by_side_for_rolling_updates(short_dir: Path) -> None:
    old = Plugin(short_dir).start()
    new = Plugin(short_dir, claims=old.claims, generation=1).start()
    try:
        assert old.kubelet.get_info().endpoint != new.kubelet.get_info().endpoint
        claim = new.add_claim("shared", "uid-shared")
        assert new.kubelet.prepare(claim).claims["uid-shared"].error == ""
        # The old instance sees what the new one wrote to the shared checkpoint.
        assert old.kubelet.unprepare(claim).claims["uid-shared"].error == ""
        assert new.preparer.prepared_uids() == ["uid-shared"]
        assert [e.claim.uid for e in old.preparer.unprepared] == ["uid-shared"]
    finally:
        new.stop()
        old.stop()


def test_socket_paths_longer_than_a_unix_socket_allows_are_refused(short_dir: Path) -> None:
    settings = PluginSettings(DRIVER, CDI_KIND, instance_id="x" * 60,
                              registry_dir=short_dir / ("r" * 100), plugins_dir=short_dir)
    with pytest.raises(ConfigurationError, match="at most 107 bytes"):
        settings.validate()


def test_a_pod_uid_too_long_for_a_deep_kubelet_folder_becomes_a_short_digest() -> None:
    deep = Path("/var/lib/a-test-bed/clusters/some-cluster/nodes/0/kubelet")
    uids = ["0b6e7f4e-62c1-4a3f-9d59-3f1e0e4c8a11", "0b6e7f4e-62c1-4a3f-9d59-3f1e0e4c8a12"]
    settings = [PluginSettings(DRIVER, CDI_KIND, instance_id=uid,
                               registry_dir=deep / "plugins_registry",
                               plugins_dir=deep / "plugins") for uid in uids]
    for each in settings:
        each.validate()
        assert len(each.socket_id) == 8
        assert each.registration_socket.name == f"{DRIVER}-{each.socket_id}-reg.sock"
        assert each.dra_socket.name == f"dra-{each.socket_id}.sock"
    assert settings[0].socket_id != settings[1].socket_id
    kubelet = PluginSettings(DRIVER, CDI_KIND, instance_id=uids[0])  # /var/lib/kubelet fits
    assert kubelet.socket_id == uids[0]


@pytest.mark.parametrize("name", ["Upper.case", "-leading", "has space", ""])
def test_driver_names_must_be_dns_subdomains(name: str) -> None:
    with pytest.raises(ConfigurationError, match="DNS subdomain"):
        PluginSettings(name, CDI_KIND).validate()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_plugin_and_removes_its_sockets(short_dir: Path,
                                                         sig: signal.Signals) -> None:
    running = Plugin(short_dir)
    settings = running.settings()
    server = PluginServer(settings, preparer=running.preparer, claims=running.claims)
    before = signal.getsignal(sig)

    def kubelet_then_signal() -> None:
        deadline = time.monotonic() + 10
        while not settings.registration_socket.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        kubelet = Kubelet(settings)
        assert kubelet.get_info().name == DRIVER
        kubelet.close()
        os.kill(os.getpid(), sig)

    helper = threading.Thread(target=kubelet_then_signal)
    helper.start()
    assert run_until_signal(server) == sig
    helper.join()
    assert not settings.registration_socket.exists()
    assert not settings.dra_socket.exists()
    assert signal.getsignal(sig) == before
    server.raise_thread_errors()


def test_socket_files_go_before_calls_in_flight_end(short_dir: Path) -> None:
    """A stopping plugin's socket files are gone while a slow prepare still runs: if the pod's
    grace period ends then, the kill leaves no socket on the node."""
    running = Plugin(short_dir).start()
    settings = running.server.settings
    claim = running.add_claim("slow", "uid-slow")
    entered, release = threading.Event(), threading.Event()

    def block(request: object) -> None:
        entered.set()
        release.wait(30)

    running.preparer.on_prepare = block
    answers: list[object] = []
    caller = threading.Thread(target=lambda: answers.append(running.kubelet.prepare(claim)))
    caller.start()
    assert entered.wait(10)
    stopper = threading.Thread(target=lambda: running.server.stop(grace=30))
    stopper.start()
    deadline = time.monotonic() + 2
    while settings.dra_socket.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert not settings.registration_socket.exists()
        assert not settings.dra_socket.exists()
        assert stopper.is_alive(), "stop returned while a prepare was still running"
    finally:
        release.set()
        caller.join()
        stopper.join()
        running.kubelet.close()
    assert answers[0].claims["uid-slow"].error == ""  # the call in flight was answered
    running.server.raise_thread_errors()

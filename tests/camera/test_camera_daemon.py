"""The camera daemon in its own process, steered through its unix socket and the CLI."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from camera_testbed import PASSWORD, USER
from click.testing import CliRunner
from rtsp_client import RtspClient

from fakehw.camera.cli import camera as camera_cli
from fakehw.camera.config import CameraConfig
from fakehw.camera.control import CameraControl
from fakehw.camera.daemon import CameraDaemon
from fakehw.errors import CameraError

CAMERAS = [
    {"name": "door", "port": 0, "width": 320, "height": 240, "fps": 5,
     "username": USER, "password": PASSWORD},
    {"name": "yard", "port": 0, "width": 320, "height": 240, "fps": 5, "auth": "basic",
     "username": USER, "password": PASSWORD},
]


@dataclass
class Daemon:
    proc: subprocess.Popen[str]
    socket: Path
    control: CameraControl
    urls: dict[str, str]


@pytest.fixture
def workdir() -> Iterator[Path]:
    # unix socket paths must stay under 108 bytes: pytest's tmp_path can be longer
    with tempfile.TemporaryDirectory(prefix="fakehw-cam-") as name:
        yield Path(name)


def spawn(workdir: Path, doc: object) -> subprocess.Popen[str]:
    config = workdir / "cams.json"
    config.write_text(json.dumps(doc))
    return subprocess.Popen(
        [sys.executable, "-m", "fakehw.camera", "serve", "--config", str(config),
         "--control-socket", str(workdir / "ctl.sock")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError("the daemon printed nothing in time")
    return proc.stdout.readline()


def finish(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


@pytest.fixture
def daemon(workdir: Path) -> Iterator[Daemon]:
    proc = spawn(workdir, {"cameras": CAMERAS})
    try:
        ready = json.loads(read_line(proc, timeout=30))
        assert ready["ready"] is True
        urls = {c["name"]: c["url"] for c in ready["cameras"]}
        yield Daemon(proc, workdir / "ctl.sock", CameraControl(workdir / "ctl.sock"), urls)
    finally:
        finish(proc)


def describe(url: str, user: str, password: str, scheme: str = "digest") -> int:
    host, port = url.split("/")[2].split(":")
    with RtspClient(host, int(port)) as client:
        client.auth = (scheme, user, password)
        return client.request("DESCRIBE", url).status


@pytest.mark.socket
def test_daemon_cameras_are_steered_across_processes(daemon: Daemon) -> None:
    rows = {row["name"]: row for row in daemon.control.status()}
    assert set(rows) == {"door", "yard"}
    assert rows["door"]["url"] == daemon.urls["door"]
    assert rows["door"]["users"] == [USER]
    door = daemon.urls["door"]
    assert describe(door, USER, PASSWORD) == 200
    assert describe(daemon.urls["yard"], USER, PASSWORD, "basic") == 200

    daemon.control.add_credential("door", "claim-9", "tok9")
    assert describe(door, "claim-9", "tok9") == 200
    assert daemon.control.revoke_credential("door", "claim-9") is True
    assert describe(door, "claim-9", "tok9") == 401
    assert daemon.control.revoke_credential("door", "claim-9") is False

    daemon.control.refuse_logins("door")
    assert describe(door, USER, PASSWORD) == 401
    assert describe(daemon.urls["yard"], USER, PASSWORD, "basic") == 200  # others unaffected
    daemon.control.refuse_logins("door", refuse=False)
    daemon.control.set_streaming("door", streaming=False)
    assert describe(door, USER, PASSWORD) == 503
    assert daemon.control.status("door")[0]["streaming"] is False
    daemon.control.set_streaming("door", streaming=True)
    assert describe(door, USER, PASSWORD) == 200


@pytest.mark.socket
def test_daemon_errors_name_the_problem(daemon: Daemon) -> None:
    with pytest.raises(CameraError, match=r"no camera named 'porch'.*door, yard"):
        daemon.control.add_credential("porch", "u", "p")
    with pytest.raises(CameraError, match="name a camera"):
        daemon.control.set_streaming(None, streaming=False)
    with pytest.raises(CameraError, match="unknown command 'reboot'"):
        daemon.control.request("reboot")
    with pytest.raises(CameraError, match="missing argument 'password'"):
        daemon.control.request("add_credential", camera="door", username="u")
    with pytest.raises(CameraError, match="username"):
        daemon.control.add_credential("door", "bad:name", "p")
    with pytest.raises(CameraError, match="true or false"):
        daemon.control.request("set_streaming", camera="door", streaming="no")
    assert daemon.proc.poll() is None  # and it still runs


@pytest.mark.socket
@pytest.mark.parametrize("how", ["sigterm", "shutdown"])
def test_daemon_exits_cleanly_and_removes_its_socket(daemon: Daemon, how: str) -> None:
    if how == "sigterm":
        daemon.proc.send_signal(signal.SIGTERM)
    else:
        daemon.control.shutdown()
    _, stderr = daemon.proc.communicate(timeout=20)
    assert daemon.proc.returncode == 0, stderr
    assert not daemon.socket.exists()
    with pytest.raises(CameraError, match="no camera daemon listens"):
        daemon.control.status()


@pytest.mark.socket
def test_a_second_daemon_does_not_steal_the_socket(daemon: Daemon, workdir: Path) -> None:
    other = spawn(workdir, {"cameras": [{**CAMERAS[0], "name": "other"}]})
    _, stderr = other.communicate(timeout=30)
    assert other.returncode != 0
    assert "already listens" in stderr
    assert daemon.control.status()  # the first one is untouched


@pytest.mark.socket
def test_a_bad_config_fails_with_the_field(workdir: Path) -> None:
    proc = spawn(workdir, {"cameras": [{"name": "door", "fps": 500}]})
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "cameras[0].fps" in stderr
    assert not (workdir / "ctl.sock").exists()


@pytest.mark.socket
def test_cli_steers_the_daemon(daemon: Daemon) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(camera_cli, [*args, "--control-socket", str(daemon.socket)])

    added = run("creds", "add", "cli-user", "--password", "pw", "--camera", "door")
    assert added.exit_code == 0, added.output
    listed = run("creds", "list", "--camera", "door")
    assert listed.output.strip() == f"door: {USER}, cli-user"
    assert run("fault", "stop-stream", "--camera", "yard").exit_code == 0
    status = json.loads(run("status", "--json").output)
    assert {r["name"]: r["streaming"] for r in status} == {"door": True, "yard": False}
    assert "STOPPED" in run("status").output
    assert run("fault", "resume", "--camera", "yard").exit_code == 0
    assert run("fault", "refuse-logins", "--camera", "door").exit_code == 0
    assert describe(daemon.urls["door"], "cli-user", "pw") == 401
    assert run("fault", "allow-logins", "--camera", "door").exit_code == 0
    assert describe(daemon.urls["door"], "cli-user", "pw") == 200
    revoked = run("creds", "revoke", "cli-user", "--camera", "door")
    assert revoked.output.strip() == "revoked cli-user"
    failed = run("creds", "revoke", "x", "--camera", "porch")
    assert failed.exit_code == 1
    assert "no camera named 'porch'" in failed.output


@pytest.mark.socket
def test_cli_without_a_daemon_says_how_to_start_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(camera_cli, ["status", "--control-socket",
                                             str(tmp_path / "none.sock")])
    assert result.exit_code == 1
    assert "no camera daemon listens" in result.output
    assert "camera serve --config" in result.output


@pytest.mark.unit
def test_commands_without_sockets() -> None:
    daemon = CameraDaemon([CameraConfig(name="solo", port=0)])
    assert daemon.execute({"command": "add_credential", "username": "u", "password": "p"}) == {
        "ok": True}  # the only camera needs no name
    (row,) = daemon.execute({"command": "status"})["cameras"]
    assert row["users"] == ["admin", "u"]
    assert daemon.execute([1, 2])["error"].startswith("send a JSON object")
    daemon.stop()


@pytest.mark.socket
def test_an_unusable_socket_path_is_explained(workdir: Path) -> None:
    config = workdir / "cams.json"
    config.write_text(json.dumps({"cameras": [CAMERAS[0]]}))
    result = subprocess.run(
        [sys.executable, "-m", "fakehw.camera", "serve", "--config", str(config),
         "--control-socket", str(workdir / "missing-dir" / "ctl.sock")],
        capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "cannot listen on control socket" in result.stderr

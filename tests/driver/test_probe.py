"""The DaemonSet's startup probe (``python -m dra_reference.probe``) against real sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dra_reference import probe

pytestmark = pytest.mark.socket
UID = "0b6e7f4e-62c1-4a3f-9d59-3f1e0e4c8a11"


@pytest.fixture
def environ(short_dir: Path) -> dict[str, str]:
    return {"DRA_REFERENCE_DRIVER_NAME": "gpu.fakehw.dev", "DRA_REFERENCE_INSTANCE_ID": UID,
            "DRA_REFERENCE_REGISTRY_DIR": str(short_dir / "registry"),
            "DRA_REFERENCE_PLUGINS_DIR": str(short_dir / "plugins")}


@pytest.fixture
def listening(environ: dict[str, str]) -> Iterator[list[socket.socket]]:
    opened = []
    for path in probe.sockets(environ):
        path.parent.mkdir(parents=True, exist_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen()
        opened.append(server)
    yield opened
    for server in opened:
        server.close()


def test_serving_sockets_are_ready(environ: dict[str, str],
                                   listening: list[socket.socket]) -> None:
    assert [p.name for p in probe.sockets(environ)] == [f"gpu.fakehw.dev-{UID}-reg.sock",
                                                       f"dra-{UID}.sock"]
    assert probe.main(environ) == 0


def test_a_socket_nobody_serves_is_not_ready(environ: dict[str, str],
                                             listening: list[socket.socket],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    listening[1].close()  # the file stays, nobody accepts
    assert probe.main(environ) == 1
    assert f"dra-{UID}.sock" in capsys.readouterr().err


def test_before_the_plugin_starts_nothing_is_ready(environ: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "dra_reference.probe"], env=environ,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "not serving" in done.stderr

"""``fakehw camera ...``: serve cameras from a file, and steer a running daemon.

``serve`` runs the daemon in the foreground and prints one JSON line once the cameras listen
(their names and URLs), so a script can wait for it. Every other command talks to the daemon
through ``--control-socket`` (or ``FAKEHW_CAMERA_SOCKET``). Failures exit non-zero with the
daemon's message, which names the camera and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from fakehw.camera import daemon
from fakehw.camera.configfile import load_cameras
from fakehw.camera.control import CameraControl
from fakehw.errors import FakeHWError

F = TypeVar("F", bound=Callable[..., Any])
SOCKET_ENV = "FAKEHW_CAMERA_SOCKET"


def _socket_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--control-socket", type=click.Path(dir_okay=False, path_type=Path), envvar=SOCKET_ENV,
        required=required, help=f"unix socket of the camera daemon (env {SOCKET_ENV})")


_camera_option = click.option("--camera", "camera_name", default=None, metavar="NAME",
                              help="camera to act on (optional when the daemon serves one)")


def _control(path: Path) -> CameraControl:
    return CameraControl(path)


def _fail(exc: FakeHWError) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group("camera")
def camera() -> None:
    """Emulated RTSP IP cameras."""


@camera.command()
@click.option("--config", "config_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="JSON/YAML list of cameras, or a hardware profile")
@_socket_option(required=False)
def serve(config_path: Path, control_socket: Path | None) -> None:
    """Serve the cameras of CONFIG until SIGTERM, Ctrl-C or `camera shutdown`."""
    def announce(running: daemon.CameraDaemon) -> None:
        cams = [{"name": n, "url": c.url} for n, c in running.cameras.items()]
        socket_text = str(control_socket) if control_socket else None
        click.echo(json.dumps({"ready": True, "control_socket": socket_text, "cameras": cams}))

    try:
        daemon.run(load_cameras(config_path), control_socket, announce)
    except FakeHWError as exc:
        raise _fail(exc) from exc


@camera.group()
def creds() -> None:
    """Credentials a camera accepts."""


@creds.command("add")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True,
              help="the password (prompted if left out)")
@_camera_option
@_socket_option(required=True)
def creds_add(username: str, password: str, camera_name: str | None, control_socket: Path) -> None:
    """Accept USERNAME with a password (a new password replaces the old one)."""
    try:
        _control(control_socket).add_credential(camera_name, username, password)
    except FakeHWError as exc:
        raise _fail(exc) from exc


@creds.command("revoke")
@click.argument("username")
@_camera_option
@_socket_option(required=True)
def creds_revoke(username: str, camera_name: str | None, control_socket: Path) -> None:
    """Stop accepting USERNAME and end the sessions it opened."""
    try:
        revoked = _control(control_socket).revoke_credential(camera_name, username)
    except FakeHWError as exc:
        raise _fail(exc) from exc
    click.echo(f"revoked {username}" if revoked else f"{username} was not accepted; nothing to do")


@creds.command("list")
@_camera_option
@_socket_option(required=True)
def creds_list(camera_name: str | None, control_socket: Path) -> None:
    """User names each camera accepts."""
    try:
        rows = _control(control_socket).status(camera_name)
    except FakeHWError as exc:
        raise _fail(exc) from exc
    for row in rows:
        click.echo(f"{row['name']}: {', '.join(row['users']) or '(none)'}")


@camera.group()
def fault() -> None:
    """Inject or clear a camera fault."""


def _fault_command(name: str, help_text: str, action: Callable[[CameraControl, str | None], None],
                   ) -> None:
    @fault.command(name, help=help_text)
    @_camera_option
    @_socket_option(required=True)
    def command(camera_name: str | None, control_socket: Path) -> None:
        try:
            action(_control(control_socket), camera_name)
        except FakeHWError as exc:
            raise _fail(exc) from exc


_fault_command("stop-stream", "Stop sending video; DESCRIBE answers 503.",
               lambda c, cam: c.set_streaming(cam, streaming=False))
_fault_command("resume", "Resume the video stream.",
               lambda c, cam: c.set_streaming(cam, streaming=True))
_fault_command("refuse-logins", "Answer every authenticated request with 401.",
               lambda c, cam: c.refuse_logins(cam, refuse=True))
_fault_command("allow-logins", "Clear the refuse-logins fault.",
               lambda c, cam: c.refuse_logins(cam, refuse=False))


@camera.command()
@_camera_option
@click.option("--json", "as_json", is_flag=True, help="print the daemon's JSON")
@_socket_option(required=True)
def status(camera_name: str | None, as_json: bool, control_socket: Path) -> None:
    """What each camera is doing."""
    try:
        rows = _control(control_socket).status(camera_name)
    except FakeHWError as exc:
        raise _fail(exc) from exc
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "streaming" if row["streaming"] else "STOPPED"
        logins = "REFUSING LOGINS" if row["refuse_logins"] else f"auth {row['auth']}"
        click.echo(f"{row['name']}  {row['url']}  {state}  {logins}  clients={row['clients']}  "
                   f"frames={row['frames_encoded']}  users={','.join(row['users'])}")


@camera.command()
@_socket_option(required=True)
def shutdown(control_socket: Path) -> None:
    """Stop the daemon and all its cameras."""
    try:
        _control(control_socket).shutdown()
    except FakeHWError as exc:
        raise _fail(exc) from exc


@camera.command()
@click.argument("url")
@click.option("--name", "names", multiple=True, metavar="NAME",
              help="a camera name the stream may be; exit 1 unless it is one of them")
@click.option("--timeout", type=float, default=15.0, show_default=True,
              help="seconds to wait for the first picture")
def identify(url: str, names: tuple[str, ...], timeout: float) -> None:
    """Which camera streams at URL: its id and frame number, read from the marks it paints
    into every picture (with the URL's credentials, over TCP), as JSON."""
    import av  # noqa: PLC0415

    from fakehw.camera.marks import MarksError, camera_id, read_frame_marks  # noqa: PLC0415

    shown = url.split("@", 1)[-1]  # never the password
    try:
        with av.open(url, options={"rtsp_transport": "tcp"}, timeout=timeout) as stream:
            picture = next(stream.decode(video=0)).to_ndarray(format="gray")
        found, frame = read_frame_marks(picture)
    except (av.FFmpegError, StopIteration, MarksError) as exc:
        reason = str(exc).replace(url, shown)
        raise click.ClickException(f"no marked picture from {shown}: {reason}") from exc
    matches = [name for name in names if camera_id(name) == found]
    click.echo(json.dumps({"id": f"0x{found:08x}", "frame": frame,
                           "camera": matches[0] if matches else None}))
    if names and not matches:
        raise click.ClickException(f"{shown} streams camera 0x{found:08x}, which is none of "
                                   f"{list(names)}")

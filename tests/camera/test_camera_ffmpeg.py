"""Debian's ffmpeg and ffprobe against the camera: what real clients see and decode."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest
from camera_testbed import PASSWORD, USER
from ffmpeg_clients import FfmpegViewer, ffprobe
from rtsp_client import wait_until

from fakehw.camera import Camera, camera_id

pytestmark = pytest.mark.tools
TRANSPORTS = ["tcp", "udp"]


@pytest.mark.parametrize("auth", ["digest", "basic"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ffprobe_sees_h264(make_camera: Callable[..., Camera], auth: str,
                           transport: str) -> None:
    camera = make_camera(auth=auth)
    result = ffprobe(camera.url_with_credentials(USER, PASSWORD), transport)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "h264,320,240"


@pytest.mark.parametrize("auth", ["digest", "basic"])
def test_wrong_credentials_get_401(make_camera: Callable[..., Camera], auth: str) -> None:
    camera = make_camera(auth=auth)
    for url in (camera.url_with_credentials(USER, "wrong"), camera.url):
        result = ffprobe(url)
        assert result.returncode != 0
        assert "401 Unauthorized" in result.stderr


def test_ffprobe_without_auth(make_camera: Callable[..., Camera]) -> None:
    camera = make_camera(auth="none")
    assert ffprobe(camera.url).returncode == 0


def test_credentials_changed_at_run_time(camera: Camera) -> None:
    camera.add_credential("claim-1", "token1")
    camera.revoke_credential(USER)
    old = ffprobe(camera.url_with_credentials(USER, PASSWORD))
    assert old.returncode != 0
    assert "401" in old.stderr
    new = ffprobe(camera.url_with_credentials("claim-1", "token1"))
    assert new.returncode == 0, new.stderr
    assert camera.list_credentials() == ["claim-1"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_decoded_frames_carry_camera_id_and_advancing_counter(
        camera: Camera, viewers: Callable[..., FfmpegViewer], transport: str) -> None:
    viewer = viewers(camera.url_with_credentials(USER, PASSWORD), camera, transport)
    marks = viewer.wait_frames(20, timeout=30)
    assert not viewer.errors
    assert {cam for cam, _ in marks} == {camera_id("cam0")}
    numbers = [n for _, n in marks]
    assert numbers == sorted(set(numbers)), "the counter only goes forward"
    assert numbers[-1] - numbers[0] >= 19


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_revoking_while_playing_stops_the_player(
        camera: Camera, viewers: Callable[..., FfmpegViewer], transport: str) -> None:
    camera.add_credential("claim-7", "token7")
    viewer = viewers(camera.url_with_credentials("claim-7", "token7"), camera, transport)
    viewer.wait_frames(3, timeout=30)
    camera.revoke_credential("claim-7")
    viewer.wait_exit(timeout=30)  # ffmpeg would otherwise play forever
    assert camera.stats().clients == 0
    frames = len(viewer.marks)
    assert frames < 3 + 10 * 30  # it did not keep playing
    result = ffprobe(camera.url_with_credentials("claim-7", "token7"))
    assert "401" in result.stderr


def test_refuse_logins_fault(camera: Camera) -> None:
    url = camera.url_with_credentials(USER, PASSWORD)
    camera.set_refuse_logins(True)
    refused = ffprobe(url)
    assert refused.returncode != 0
    assert "401" in refused.stderr
    camera.set_refuse_logins(False)
    assert ffprobe(url).returncode == 0


def test_stop_stream_fault(camera: Camera, viewers: Callable[..., FfmpegViewer]) -> None:
    url = camera.url_with_credentials(USER, PASSWORD)
    viewer = viewers(url, camera)
    viewer.wait_frames(3, timeout=30)
    camera.set_streaming(False)
    stopped = ffprobe(url)
    assert stopped.returncode != 0
    assert "503" in stopped.stderr
    stopped_at = camera.stats().frame_number
    wait_until(lambda: camera.stats().frame_number >= stopped_at + 10, timeout=10)
    camera.set_streaming(True)
    resumed_at = camera.stats().frame_number
    # ffmpeg lags behind by its buffers: wait until it shows frames from after the resume
    wait_until(lambda: bool(viewer.marks) and viewer.marks[-1][1] > resumed_at + 2, timeout=30)
    marks = list(viewer.marks)
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(marks)]
    assert max(gaps) >= 10, "the frames due while stopped were never sent"
    assert ffprobe(url).returncode == 0


def test_eight_concurrent_players_share_one_encoder(
        camera: Camera, viewers: Callable[..., FfmpegViewer]) -> None:
    url = camera.url_with_credentials(USER, PASSWORD)
    start_frames = camera.stats().frames_encoded
    started = time.monotonic()
    players = [viewers(url, camera, TRANSPORTS[i % 2]) for i in range(8)]
    wait_until(lambda: camera.stats().clients == 8, timeout=60)
    for player in players:
        marks = player.wait_frames(len(player.marks) + 10, timeout=60)
        assert not player.errors
        assert {cam for cam, _ in marks} == {camera_id("cam0")}
        assert [n for _, n in marks] == sorted({n for _, n in marks})
    elapsed = time.monotonic() - started
    encoded = camera.stats().frames_encoded - start_frames
    # once per frame time (10 fps) plus one IDR forced per join: not once per client
    assert encoded <= 10 * elapsed + 8 + 5, (encoded, elapsed)


@pytest.mark.parametrize("nonce_lifetime", [300, 1], ids=["nonces-last", "nonces-expire"])
def test_ffmpeg_keepalives_hold_a_short_session(
        make_camera: Callable[..., Camera], viewers: Callable[..., FfmpegViewer],
        nonce_lifetime: int) -> None:
    """Also when every Digest nonce expires after a second: its keepalives are answered
    stale and its receiver reports keep the session meanwhile."""
    camera = make_camera(session_timeout=2, nonce_lifetime=nonce_lifetime)
    viewer = viewers(camera.url_with_credentials(USER, PASSWORD), camera)
    viewer.wait_frames(1, timeout=30)
    start = camera.stats().frame_number
    # three session timeouts of play: only keepalives (GET_PARAMETER, RTCP) can keep it
    wait_until(lambda: bool(viewer.marks) and viewer.marks[-1][1] > start + 60, timeout=30)
    assert camera.stats().clients == 1
    assert viewer.proc.poll() is None

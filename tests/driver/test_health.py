"""NodeWatchResources: complete device lists, on change and again before the kubelet forgets."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest
from dra_reference.plugin.model import DeviceHealth, HealthStatus

from .conftest import NODE, Plugin

pytestmark = pytest.mark.socket


def snapshot(*states: tuple[str, HealthStatus], message: str = "") -> list[DeviceHealth]:
    return [DeviceHealth(NODE, device, status, last_updated=1_700_000_000, timeout_seconds=60,
                         message=message) for device, status in states]


def as_tuples(response: object) -> list[tuple[str, str, int, int, int]]:
    return [(d.device.pool_name, d.device.device_name, d.health, d.last_updated_time,
             d.health_check_timeout_seconds) for d in response.devices]  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", ["v1", "v1alpha1"])
def test_stream_sends_the_complete_list_on_every_change(health_plugin: Plugin,
                                                        version: str) -> None:
    assert health_plugin.health is not None
    stream = health_plugin.kubelet.watch_health(version)
    health_plugin.health.publish(snapshot(("gpu-0", HealthStatus.HEALTHY),
                                          ("gpu-1", HealthStatus.HEALTHY)))
    first = next(stream)
    assert as_tuples(first) == [(NODE, "gpu-0", 1, 1_700_000_000, 60),
                                (NODE, "gpu-1", 1, 1_700_000_000, 60)]
    health_plugin.health.publish(snapshot(("gpu-0", HealthStatus.HEALTHY),
                                          ("gpu-1", HealthStatus.UNHEALTHY)))
    second = next(stream)
    assert [d.health for d in second.devices] == [1, 2]
    stream.cancel()


def test_an_unchanged_list_is_sent_again(health_plugin: Plugin) -> None:
    """The kubelet turns a device Unknown once it has not heard of it for its timeout."""
    assert health_plugin.health is not None
    stream = health_plugin.kubelet.watch_health()
    health_plugin.health.publish(snapshot(("gpu-0", HealthStatus.HEALTHY)))
    first = next(stream)
    start = time.monotonic()
    again = next(stream)  # resend interval is 0.5 s in the fixture
    assert time.monotonic() - start >= 0.3
    assert as_tuples(again) == as_tuples(first)
    stream.cancel()


def test_a_late_stream_gets_the_current_list_at_once(health_plugin: Plugin) -> None:
    assert health_plugin.health is not None
    early = health_plugin.kubelet.watch_health()
    health_plugin.health.publish(snapshot(("gpu-0", HealthStatus.UNHEALTHY)))
    next(early)
    late = health_plugin.kubelet.watch_health("v1alpha1")
    assert [d.health for d in next(late).devices] == [2]
    early.cancel()
    late.cancel()


def test_long_messages_are_cut_like_the_kubelet_does(health_plugin: Plugin) -> None:
    assert health_plugin.health is not None
    stream = health_plugin.kubelet.watch_health()
    health_plugin.health.publish(snapshot(("gpu-0", HealthStatus.UNHEALTHY),
                                          message="x" * 5000))
    message = next(stream).devices[0].message
    assert len(message) == 1024
    assert message.endswith("...")
    stream.cancel()


def test_streams_end_when_the_plugin_stops(health_plugin: Plugin) -> None:
    assert health_plugin.health is not None
    stream = health_plugin.kubelet.watch_health()
    health_plugin.health.publish(snapshot(("gpu-0", HealthStatus.HEALTHY)))
    next(stream)
    health_plugin.server.stop()
    with pytest.raises((StopIteration, grpc.RpcError)):
        drain(stream)


def drain(stream: Any) -> None:
    while True:
        next(stream)


def test_a_failing_health_source_reaches_the_test(health_plugin: Plugin) -> None:
    assert health_plugin.health is not None
    health_plugin.health.publish(OSError("sysfs vanished"))
    deadline = time.monotonic() + 5
    while not health_plugin.server.errors.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(OSError, match="sysfs vanished"):
        health_plugin.server.raise_thread_errors()

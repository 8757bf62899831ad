"""Figures for the kubelet plugin: what one NodePrepareResources / NodeUnprepareResources costs.

Run ``python -m dra_reference.plugin.bench``. A real plugin on a unix socket in a temporary
directory and claims from memory, with two Preparers: ``trivial`` does nothing but describe one
device node per device, so its rows are the plugin's own cost (gRPC, the claim checks, the
checkpoint and the CDI spec); ``gpu`` is the driver's real one (the kind dispatcher, its undo
journal and the GPU preparer) over GPUs described in memory, which is what a GPU claim costs
on a node. Nothing here asserts a time.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import grpc
from rich.console import Console
from rich.table import Table

from dra_reference.cdi import ContainerEdits, DeviceNode
from dra_reference.checkpoint import CheckpointEntry
from dra_reference.discovery.model import Device
from dra_reference.discovery.model import DeviceNode as HostNode
from dra_reference.plugin.memory import MemoryClaimSource, Result, resource_claim
from dra_reference.plugin.model import PreparedDevice, PrepareRequest
from dra_reference.plugin.seams import Preparer
from dra_reference.plugin.server import PluginServer
from dra_reference.plugin.settings import PluginSettings
from dra_reference.plugin.wire import DRA_V1
from dra_reference.preparers.dispatch import KindDispatcher
from dra_reference.preparers.gpu import GpuPreparer
from dra_reference.preparers.journal import Journal

DRIVER = "gpu.bench.fakehw.dev"
SERVICE = "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/"


class TrivialPreparer:
    """One character device node and one variable per device; undoing is free."""

    def prepare(self, request: PrepareRequest) -> Sequence[PreparedDevice]:
        return [PreparedDevice(device, ContainerEdits(
            env=(f"BENCH_DEVICE={device.device}",),
            device_nodes=(DeviceNode(f"/dev/bench/{device.device}", type="c", major=10,
                                     minor=200 + n),)))
            for n, device in enumerate(request.devices)]

    def changes_devices(self, request: PrepareRequest) -> bool:
        return False

    def unprepare(self, entry: CheckpointEntry) -> None:
        pass

    def rollback(self, entry: CheckpointEntry) -> None:
        pass


def gpu_preparer(root: Path) -> KindDispatcher:
    """The driver's own Preparer over GPUs ``gpu-N`` with render nodes, no tree needed."""

    def lookup(pool: str, name: str) -> Device | None:
        n = int(name.rpartition("-")[2])
        node = HostNode(f"/dev/dri/renderD{128 + n}", f"/dev/dri/renderD{128 + n}", 226, 128 + n)
        return Device(name, "gpu", nodes=(node,))

    return KindDispatcher([GpuPreparer()], lookup, Journal(root / "journal"))


PREPARERS: dict[str, Callable[[Path], Preparer]] = {
    "trivial": lambda root: TrivialPreparer(), "gpu": gpu_preparer}


def timed(call: Callable[..., Any], request: Any) -> float:
    started = time.perf_counter()
    call(request, timeout=45)  # the kubelet's budget
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(root: Path, preparer: Preparer, devices: int,
            iterations: int) -> dict[str, list[float]]:
    """Latencies in ms of prepare, repeated (checkpointed) prepare and unprepare."""
    claims = MemoryClaimSource()
    settings = PluginSettings(DRIVER, "bench.fakehw.dev/gpu", instance_id=f"b{devices}",
                              registry_dir=root / "registry", plugins_dir=root / "plugins",
                              cdi_dir=root / "cdi")
    samples: dict[str, list[float]] = {"prepare": [], "prepare again": [], "unprepare": []}
    with PluginServer(settings, preparer=preparer, claims=claims) as server, \
            grpc.insecure_channel(f"unix:{settings.dra_socket}") as channel:
        prepare = channel.unary_unary(
            SERVICE + "NodePrepareResources",
            request_serializer=DRA_V1.NodePrepareResourcesRequest.SerializeToString,
            response_deserializer=DRA_V1.NodePrepareResourcesResponse.FromString)
        unprepare = channel.unary_unary(
            SERVICE + "NodeUnprepareResources",
            request_serializer=DRA_V1.NodeUnprepareResourcesRequest.SerializeToString,
            response_deserializer=DRA_V1.NodeUnprepareResourcesResponse.FromString)
        for n in range(iterations):
            uid = f"bench-{devices}-{n}"
            claims.put(resource_claim("bench", f"claim-{n}", uid, [
                Result("gpu", DRIVER, "node-a", f"gpu-{d}") for d in range(devices)]))
            claim = [DRA_V1.Claim(namespace="bench", name=f"claim-{n}", uid=uid)]
            request = DRA_V1.NodePrepareResourcesRequest(claims=claim)
            undo = DRA_V1.NodeUnprepareResourcesRequest(claims=claim)
            samples["prepare"].append(timed(prepare, request))
            samples["prepare again"].append(timed(prepare, request))
            samples["unprepare"].append(timed(unprepare, undo))
        server.raise_thread_errors()
    return samples


@click.command()
@click.option("--preparer", "preparers", multiple=True, type=click.Choice(sorted(PREPARERS)),
              default=("trivial", "gpu"), help="Preparers to measure (repeatable).")
@click.option("--devices", "device_counts", multiple=True, type=int, default=(1, 8),
              help="Devices per claim to measure (repeatable).")
@click.option("--iterations", default=300, help="Claims prepared and unprepared per row.")
@click.option("--where", type=click.Path(file_okay=False, path_type=Path), default=Path("/tmp"),
              help="Folder for sockets, checkpoint and CDI specs (short: socket path limit).")
def main(preparers: tuple[str, ...], device_counts: tuple[int, ...], iterations: int,
         where: Path) -> None:
    table = Table("preparer", "RPC", "devices", "n", "p50 (ms)", "p99 (ms)", "mean (ms)",
                  title="kubelet plugin over a unix socket, one claim per call")
    for preparer, devices in itertools.product(preparers, device_counts):
        root = Path(tempfile.mkdtemp(prefix="dra-bench-", dir=where))
        try:
            samples = measure(root, PREPARERS[preparer](root), devices, iterations)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        for name, values in samples.items():
            table.add_row(preparer, name, str(devices), str(len(values)),
                          f"{percentile(values, 0.5):.2f}", f"{percentile(values, 0.99):.2f}",
                          f"{statistics.fmean(values):.2f}")
    Console().print(table)


if __name__ == "__main__":
    main(auto_envvar_prefix="DRA_BENCH")

#!/usr/bin/env python3
"""Figures for the reference driver on emulated hardware (part of ``make bench``).

    python hack/driverbench.py all       # everything below
    python hack/driverbench.py cluster   # memory, hot-plug to ResourceSlice, prepare via API
    python hack/driverbench.py fpga      # FPGA NodePrepareResources, programming included
    python hack/driverbench.py compare   # beside two Go drivers (make bench-drivers)

``cluster`` runs the driver as a real ``kubelet-plugin`` process over an edge-node fakehw
tree, against a real API server (the local cluster of ``tests/driver_e2e``, reused when it
runs, else started and stopped again). It prints the process's resident memory (VmRSS, and
VmHWM, the peak) once discovery has published the pool and again after ``--prepares``
prepare/unprepare pairs of claims read from the API server; then, over ``--cycles``
unplug/replug cycles of one GPU (``fakehw.machine.unplug``, what ``fakehw unplug`` does),
the time from the unplug until the ResourceSlice without the device arrives on a watch, and
the same for the replug. ``compare`` is described in ``driverbenchkit/sidebyside.py``. The
code is in ``hack/driverbenchkit/``. Nothing asserts a time.

Every option is also an environment variable, ``DRIVER_BENCH_`` and the option in capitals.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import click
import grpc
from dra_reference.plugin.bench import percentile
from driverbenchkit import fpga, sidebyside
from driverbenchkit.cluster import (
    DRIVER,
    Cluster,
    DriverProcess,
    local_cluster,
    reference_plugin,
    resource_api,
)
from driverbenchkit.kubelet import DraClient, allocated_claims
from driverbenchkit.slices import PoolWatch
from kubernetes import client
from rich.console import Console
from rich.table import Table

from fakehw import machine, profiles, runtime
from fakehw.cluster.settings import ClusterSettings

console = Console()


def latency_row(table: Table, name: str, values: list[float]) -> None:
    table.add_row(name, str(len(values)), f"{percentile(values, 0.5):.1f}",
                  f"{percentile(values, 0.99):.1f}", f"{statistics.fmean(values):.1f}",
                  f"{max(values):.1f}")


def latency_table(title: str) -> Table:
    return Table("what", "n", "p50 (ms)", "p99 (ms)", "mean (ms)", "max (ms)", title=title)


def run_cluster(cluster: Cluster, where: Path, prepares: int, cycles: int, gpu: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="drabench-", dir=where))
    state = runtime.up(profiles.load("edge-node"), work / "hw", cluster.node, cameras=False)
    plugin = reference_plugin(Path(state.root), work, cluster)
    api = resource_api(cluster.kubeconfig)
    try:
        with PoolWatch(api, DRIVER, cluster.node) as pool:
            plugin.start()
            plugin.wait_for_socket()
            pool.wait_for(bool, since=0)
            time.sleep(2)  # let the first publish and the watches settle
            memory = [("after discovery", plugin.memory())]
            calls = prepare_many(api, plugin, cluster.node, sorted(pool.now()), prepares)
            memory.append((f"after {prepares} prepares + unprepares", plugin.memory()))
            plug = hotplug(pool, Path(state.root), gpu, cycles)
        print_memory(memory)
        table = latency_table(f"NodePrepareResources over the DRA socket, claim read from the "
                              f"API server ({len(calls['prepare'])} GPU claims)")
        for name, values in calls.items():
            latency_row(table, name, values)
        console.print(table)
        table = latency_table(f"hot-plug of {gpu} in the fakehw tree -> ResourceSlice "
                              "visible in the API server (watch)")
        for name, values in plug.items():
            latency_row(table, name, values)
        console.print(table)
    finally:
        plugin.stop()
        api.delete_collection_resource_slice(field_selector=f"spec.driver={DRIVER}")
        machine.down(Path(state.root))
        shutil.rmtree(work, ignore_errors=True)


def prepare_many(api: client.ResourceV1Api, plugin: DriverProcess, node: str,
                 devices: list[str], prepares: int) -> dict[str, list[float]]:
    """``prepares`` prepare/unprepare pairs over one allocated claim per GPU of the pool."""
    gpus = [name for name in devices if name.startswith("gpu-")]
    samples: dict[str, list[float]] = {"prepare": [], "unprepare": []}
    with allocated_claims(api, DRIVER, node, gpus) as claims, \
            grpc.insecure_channel(f"unix:{plugin.socket}") as channel:
        dra = DraClient(channel)
        for n in range(prepares):
            claim = claims[n % len(claims)]
            for name, call in (("prepare", dra.prepare), ("unprepare", dra.unprepare)):
                started = time.perf_counter()
                call(*claim)
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def hotplug(pool: PoolWatch, root: Path, gpu: str, cycles: int) -> dict[str, list[float]]:
    """Seconds from unplug (replug) until a slice without (with) the device is visible."""
    everything = pool.now()
    samples: dict[str, list[float]] = {"unplug -> device gone": [],
                                       "replug -> device back": []}
    for _ in range(cycles):
        started = time.monotonic()
        machine.unplug(root, gpu)
        seen = pool.wait_for(lambda devices: devices < everything, since=started)
        samples["unplug -> device gone"].append((seen - started) * 1000)
        time.sleep(0.2)  # the driver's debounce window: let the unplug's burst settle
        started = time.monotonic()
        machine.replug(root, gpu)
        seen = pool.wait_for(lambda devices: devices == everything, since=started)
        samples["replug -> device back"].append((seen - started) * 1000)
        time.sleep(0.2)
    return samples


def print_memory(memory: list[tuple[str, dict[str, int]]]) -> None:
    table = Table("when", "VmRSS (MiB)", "VmHWM (MiB)",
                  title="kubelet-plugin process, edge-node tree (GPUs, FPGA, CXL)")
    for when, fields in memory:
        table.add_row(when, f"{fields['VmRSS'] / 1024:.1f}", f"{fields['VmHWM'] / 1024:.1f}")
    console.print(table)


def run_fpga(where: Path, iterations: int) -> None:
    samples = fpga.measure(where, iterations)
    table = latency_table("FPGA NodePrepareResources, real preparer, fakehw fpga_manager "
                          "(programming time 300 ms)")
    for name, values in samples.items():
        latency_row(table, name, values)
    console.print(table)


@click.group()
def main() -> None:
    """Figures for the reference driver on emulated hardware."""


def cluster_options(function: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option("--cluster-name", default="draref", help="local cluster to use"),
        click.option("--apiserver-port", default=6843),
        click.option("--etcd-port", default=2879),
        click.option("--kubelet-port", default=10850),
        click.option("--controller-manager-port", default=10857),
        click.option("--scheduler-port", default=10859),
        click.option("--pod-subnet", default="10.248.0.0/16"),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def figures_options(function: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option("--prepares", default=300, help="prepare/unprepare pairs"),
        click.option("--cycles", default=20, help="unplug/replug cycles"),
        click.option("--gpu", default="gpu1", help="fakehw device to unplug"),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def where_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option("--where", type=click.Path(file_okay=False, path_type=Path),
                        default=Path("/tmp"),
                        help="folder for trees and sockets (short: socket path limit)")(function)


def cluster_settings(*, cluster_name: str, apiserver_port: int, etcd_port: int,
                     kubelet_port: int, controller_manager_port: int, scheduler_port: int,
                     pod_subnet: str) -> ClusterSettings:
    return ClusterSettings(name=cluster_name, nodes=1, apiserver_port=apiserver_port,
                           etcd_port=etcd_port, kubelet_port=kubelet_port,
                           controller_manager_port=controller_manager_port,
                           scheduler_port=scheduler_port, pod_subnet=pod_subnet)


def figures_on_cluster(*, where: Path, prepares: int, cycles: int, gpu: str,
                       **ports: object) -> None:
    with local_cluster(cluster_settings(**ports), Console(stderr=True)) as cluster:  # type: ignore[arg-type]
        run_cluster(cluster, where, prepares, cycles, gpu)


@main.command("cluster")
@cluster_options
@figures_options
@where_option
def cluster_command(**options: object) -> None:
    """Memory, prepare through the API server and hot-plug latency, on a real cluster."""
    figures_on_cluster(**options)  # type: ignore[arg-type]


@main.command("fpga")
@click.option("--iterations", default=20, help="claims per row")
@where_option
def fpga_command(iterations: int, where: Path) -> None:
    """FPGA prepare latency, programming included (no cluster needed)."""
    run_fpga(where, iterations)


def print_comparison(measured: list[sidebyside.Subject], rounds: int) -> None:
    by_name = {subject.name: subject for subject in measured}
    reference = by_name[sidebyside.REFERENCE]
    others = [subject for subject in measured if subject is not reference]
    for claims in (1, sidebyside.CLAIMS):
        table = Table("driver", "step", "p50 (ms)", "p90 (ms)", "p99 (ms)", "max (ms)",
                      "CPU/call (ms)", title=f"{claims} claim(s) per call, {rounds} rounds, "
                      "interleaved; latency as the caller of the DRA socket sees it")
        for subject in measured:
            for step in sidebyside.STEPS:
                key = f"{step}/{claims}"
                values = subject.samples[key]
                figures = sidebyside.percentiles(values)
                table.add_row(subject.name, step, *(f"{figures[p]:.1f}" for p in
                                                    ("p50", "p90", "p99", "max")),
                              f"{subject.cpu[key] * 1000 / len(values):.2f}")
            table.add_section()
        console.print(table)
    table = Table("driver", "VmRSS (MiB)", "VmHWM (MiB)",
                  title="memory after the rounds")
    for subject in measured:
        table.add_row(subject.name, f"{subject.memory['VmRSS'] / 1024:.1f}",
                      f"{subject.memory['VmHWM'] / 1024:.1f}")
    console.print(table)
    table = Table("figure", *(f"reference / {other.name}" for other in others),
                  title="ratios: below 1.00 the reference driver is faster or smaller")
    for claims in (1, sidebyside.CLAIMS):
        for step in sidebyside.STEPS:
            key = f"{step}/{claims}"
            mine = sidebyside.percentiles(reference.samples[key])
            for p in ("p50", "p99"):
                table.add_row(f"{step}, {claims} claim(s), {p}", *(
                    _ratio(mine[p], sidebyside.percentiles(other.samples[key])[p])
                    for other in others))
    mine_cpu = reference.cpu["prepare/1"] / len(reference.samples["prepare/1"])
    table.add_row("CPU per prepare, 1 claim", *(
        _ratio(mine_cpu, other.cpu["prepare/1"] / len(other.samples["prepare/1"]))
        for other in others))
    table.add_row("VmRSS", *(_ratio(reference.memory["VmRSS"], other.memory["VmRSS"])
                             for other in others))
    console.print(table)


def _ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.2f}" if theirs else "-"


@main.command("compare")
@cluster_options
@click.option("--rounds", default=200, help="interleaved rounds (each: 1 claim, then "
              f"{sidebyside.CLAIMS} claims per call)")
@where_option
def compare_command(rounds: int, where: Path, **options: object) -> None:
    """The reference driver beside upstream's DRA test driver and dra-example-driver."""
    settings = cluster_settings(**options)  # type: ignore[arg-type]
    with local_cluster(settings, Console(stderr=True)) as cluster:
        measured = sidebyside.measure(cluster, where, rounds,
                                      lambda text: console.print(f"[dim]{text}[/]"))
    print_comparison(measured, rounds)


@main.command("all")
@cluster_options
@figures_options
@click.option("--iterations", default=20, help="FPGA claims per row")
@where_option
def all_command(iterations: int, **options: object) -> None:
    """Everything: the FPGA figures, then the cluster ones."""
    run_fpga(options["where"], iterations)  # type: ignore[arg-type]
    figures_on_cluster(**options)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main(auto_envvar_prefix="DRIVER_BENCH"))

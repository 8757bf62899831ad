"""Benchmark the local provider: build, `up` to Ready, idle memory, `down`.

    python -m fakehw.cluster.bench [--nodes N] [--rounds R] [--idle SECONDS] [--build]
                                   [--cold-go-cache] [--json]

`up` is measured warm (binaries cached), from the call until every node is Ready and the
default service account exists; the goal is under 60 s. Idle memory is the sum of the resident
set sizes of every process the cluster started (plus container shims), after `--idle` seconds.
`--build` also times a build of every binary into an empty binary cache (Go's own caches stay
warm, so this is a re-link); add `--cold-go-cache` for a truly cold build with empty GOCACHE
(15-40 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from fakehw.cluster.binaries import ensure_binaries
from fakehw.cluster.local.layout import ClusterLayout
from fakehw.cluster.local.processes import is_running, pids_of_executable
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.providers.local import LocalProvider
from fakehw.cluster.settings import ClusterSettings


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def cluster_rss(settings: ClusterSettings) -> dict[str, int]:
    """RSS by process name, for every recorded process and every shim of the cluster."""
    state = ClusterState.load(ClusterLayout(settings).state_file)
    if state is None:
        return {}
    usage = {p.name: rss_bytes(p.pid) for p in state.processes if is_running(p)}
    for record in state.processes:
        if record.name.startswith("containerd-"):
            shim = Path(record.argv[0]).with_name("containerd-shim-runc-v2")
            node = ClusterLayout(settings).nodes[int(record.name.split("-")[1])]
            pids = pids_of_executable(shim, str(node.containerd_socket))
            usage[f"shims-{record.name}"] = sum(rss_bytes(p) for p in pids)
    return usage


def time_build(console: Console, cold_go_cache: bool) -> float:
    """Seconds to build every binary into an empty binary cache."""
    with tempfile.TemporaryDirectory(prefix="fhw-bench-") as scratch:
        if cold_go_cache:
            os.environ["GOCACHE"] = str(Path(scratch) / "gocache")
        start = time.monotonic()
        ensure_binaries(cache_root=Path(scratch) / "cache", console=console)
        return time.monotonic() - start


def time_round(provider: LocalProvider, settings: ClusterSettings, console: Console,
               idle: float) -> dict[str, Any]:
    """One up / idle / down cycle."""
    start = time.monotonic()
    provider.up(settings, console)
    up_seconds = time.monotonic() - start
    time.sleep(idle)
    usage = cluster_rss(settings)
    start = time.monotonic()
    provider.down(settings, console)
    return {"up_seconds": up_seconds, "down_seconds": time.monotonic() - start,
            "idle_rss_bytes": sum(usage.values()), "rss_by_process": usage}


@click.command()
@click.option("--nodes", type=int, default=1, show_default=True)
@click.option("--rounds", type=int, default=3, show_default=True)
@click.option("--idle", type=float, default=20.0, show_default=True,
              help="Seconds to let the cluster settle before measuring memory.")
@click.option("--build", is_flag=True, help="Also time a build into an empty binary cache.")
@click.option("--cold-go-cache", is_flag=True, help="With --build: use an empty GOCACHE too.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def main(*, nodes: int, rounds: int, idle: float, build: bool, cold_go_cache: bool,
         as_json: bool) -> None:
    """Measure build, up, idle memory and down of a local cluster."""
    console = Console(stderr=True, quiet=as_json)
    results: dict[str, Any] = {"nodes": nodes, "rounds": []}
    if build:
        results["build_seconds"] = time_build(console, cold_go_cache)
    ensure_binaries(console=console)
    settings = ClusterSettings(name="fhwbench", nodes=nodes)
    provider = LocalProvider()
    for _ in range(rounds):
        results["rounds"].append(time_round(provider, settings, console, idle))
    for key in ("up_seconds", "down_seconds", "idle_rss_bytes"):
        results[f"median_{key}"] = statistics.median(r[key] for r in results["rounds"])
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    table = Table(title=f"local cluster, {nodes} node(s), {rounds} round(s)")
    for column in ("round", "up to Ready (s)", "down (s)", "idle RSS (MiB)"):
        table.add_column(column, justify="right")
    for index, r in enumerate(results["rounds"], 1):
        table.add_row(str(index), f"{r['up_seconds']:.1f}", f"{r['down_seconds']:.1f}",
                      f"{r['idle_rss_bytes'] / 2**20:.0f}")
    Console().print(table)
    if "build_seconds" in results:
        Console().print(f"build into an empty binary cache: {results['build_seconds']:.0f} s")


if __name__ == "__main__":
    main()

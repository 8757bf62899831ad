"""Figures for the emulated hardware: how long trees take to materialize and to remove.

Run ``python -m fakehw.bench`` (``make bench``). It prints a table; nothing here asserts a
time, because timings belong in figures, not in tests. ``--camera`` adds the RTSP camera's
delivered frame rates.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from fakehw import machine, profiles


def materialize(profile_name: str, nodes: int, base: Path) -> tuple[float, float, int]:
    """Seconds to bring ``nodes`` trees up and to take them down, and the devices made."""
    profile = profiles.load(profile_name)
    roots = [base / f"node-{n}" for n in range(nodes)]
    started = time.perf_counter()
    devices = sum(len(machine.up(profile, root, root.name).devices) for root in roots)
    up_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for root in roots:
        machine.down(root)
    return up_seconds, time.perf_counter() - started, devices


@click.command()
@click.option("--profile", default="gpu-sriov-8", help="Profile to materialize.")
@click.option("--nodes", "node_counts", multiple=True, type=int, default=(1, 64),
              help="Node counts to measure (repeatable).")
@click.option("--repeat", default=3, help="Runs per figure; the median is shown.")
@click.option("--where", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to build trees in (default: a temporary folder).")
@click.option("--camera/--no-camera", default=False, help="Also measure the RTSP camera.")
def main(profile: str, node_counts: tuple[int, ...], repeat: int, where: Path | None,
         camera: bool) -> None:
    table = Table("profile", "nodes", "devices", "up (s)", "down (s)", "up per node (ms)",
                  title=f"tree materialization, median of {repeat}")
    for nodes in node_counts:
        runs = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(dir=where) as folder:
                runs.append(materialize(profile, nodes, Path(folder)))
        up_s = statistics.median(r[0] for r in runs)
        down_s = statistics.median(r[1] for r in runs)
        table.add_row(profile, str(nodes), str(runs[0][2]), f"{up_s:.2f}", f"{down_s:.2f}",
                      f"{1000 * up_s / nodes:.0f}")
    Console().print(table)
    if camera:
        from fakehw.camera.bench import main as camera_bench  # noqa: PLC0415

        camera_bench([])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""``make calibrate``: the suite run on three drivers, on one cluster, in one run.

A requirement that fails a driver built on upstream's own helpers is either a fault of that
driver that upstream's contract backs, or a requirement that is wrong. This job puts the
suite's catalogue to that test:

    reference   ``hack/conformance.py run --keep``: the cluster of ``make conformance`` (two
                nodes over fakehw, upstream's test driver beside ours as companion), and the
                reference driver certified on it
    example     ``hack/go-driver.py run --driver dra-example-driver --name conformance``: the
                example driver as a host process of the same cluster's first node, the
                reference driver's GPU class as its companion
    test        the same for upstream's DRA test driver, under a name of its own
    down        the cluster, whatever happened before

Each driver's results go to ``results/calibration/<driver>/``; ``--publish DIR`` copies each
report to ``DIR/<driver>/`` (``conformance/examples/reports`` for the committed ones). The
summary lists every requirement a driver failed, with its level; the exit status is 0 when
all three runs produced a report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import click
from conformancejob.publish import publish

REPO = Path(__file__).resolve().parents[1]
CLUSTER = "conformance"
COMPANION = "gpu.dra.fakehw.dev"  # the reference driver's GPUs, beside the Go drivers
DRIVERS = ("reference-driver", "dra-example-driver", "dra-test-driver")


def echo(text: str) -> None:
    click.echo(f"{time.strftime('%H:%M:%S')} {text}", err=True)


def command(driver: str, results: Path, seed: int) -> list[str]:
    if driver == "reference-driver":
        return [sys.executable, str(REPO / "hack/conformance.py"), "run", "--name", CLUSTER,
                "--keep", "--seed", str(seed), "--results", str(results)]
    return [sys.executable, str(REPO / "hack/go-driver.py"), "run", "--driver", driver,
            "--name", CLUSTER, "--seed", str(seed), "--companion-class", COMPANION,
            "--results", str(results)]


def summary(driver: str, results: Path, seconds: float) -> str:
    try:
        report = json.loads((results / "report.json").read_text())
    except (OSError, ValueError):
        return f"{driver}: no report ({seconds:.0f} s); see the output above"
    verdicts = report["requirements"]
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict["verdict"]] = counts.get(verdict["verdict"], 0) + 1
    failed = [f"{v['id']} ({v['level']})" for v in verdicts if v["verdict"] == "failed"]
    not_run = [f"{v['id']} ({v['level']})" for v in verdicts if v["verdict"] == "not run"]
    return (f"{driver}: {'CERTIFIED' if report['certified'] else 'NOT CERTIFIED'} in "
            f"{seconds:.0f} s, {counts}" + (f"; failed: {', '.join(failed)}" if failed else "")
            + (f"; not run: {', '.join(not_run)}" if not_run else ""))


@click.command(context_settings={"show_default": True})
@click.option("--seed", type=int, default=4, help="hypothesis seed of every run")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=REPO / "results/calibration")
@click.option("--publish", "publish_to", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="also copy each report to DIR/<driver>/")
def main(seed: int, results: Path, publish_to: Path | None) -> None:
    """Certify the reference driver, dra-example-driver and upstream's test driver on one
    cluster; print what each failed."""
    lines: list[str] = []
    reports = 0
    try:
        for driver in DRIVERS:
            folder = (results / driver).resolve()
            started = time.monotonic()
            echo(f"▶ {driver}")
            subprocess.run(command(driver, folder, seed), check=False)
            lines.append(summary(driver, folder, time.monotonic() - started))
            echo(lines[-1])
            if (folder / "report.json").is_file():
                reports += 1
                if publish_to is not None:
                    publish(folder, publish_to / driver)
            if driver == "reference-driver" and reports == 0:
                break  # no cluster to run the others on
    finally:
        echo("▶ down")
        subprocess.run([sys.executable, str(REPO / "hack/conformance.py"), "down", "--name",
                        CLUSTER], check=False)
    click.echo("\n".join(lines))
    sys.exit(0 if reports == len(DRIVERS) else 1)


if __name__ == "__main__":
    main()

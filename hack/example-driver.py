#!/usr/bin/env python3
"""``make certify-example-driver``: certify a third-party driver, sigs.k8s.io/dra-example-driver.

The suite judges every driver as a black box; this job shows it on one the project did not
write, in timed steps:

    build     its kubelet plugin (VERSION pinned) from the Go module proxy, once, into
              ~/.cache/fakehw/bin/dra-example-driver-VERSION ($FAKEHW_CACHE_DIR)
    cluster   fakehw cluster up --name exdrv, one node and no fake hardware: the driver
              invents its GPUs and reads no hardware (a running cluster is reused and kept)
    class     the DeviceClass gpu.example.com, selecting every device of the driver
    driver    the kubelet plugin as a host process, run as the cluster's admin, over the
              node's kubelet directories and its own CDI directory
    slices    wait until its pool is published
    certify   dra-conformance certify --tier all with
              conformance/examples/dra-example-driver-local.yaml, completed for the run
    cleanup   stop the driver by its PID, remove its sockets, checkpoint and CDI specs, then
              the cluster (``--keep`` leaves both running; ``down`` stops them later)

Results go to ``results/example-driver/``; the exit status is certify's. Every option is
also an environment variable (``--results`` is ``FAKEHW_EXAMPLE_DRIVER_RUN_RESULTS``).
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import yaml
from conformancejob.exampledriver import MODULE, PLUGIN, VERSION, build
from conformancejob.job import built_binary, cluster_status
from conformancejob.supervisor import end_process, listening, process_start_time

REPO = Path(__file__).resolve().parents[1]
DRIVER = "gpu.example.com"  # its gpu profile's default driver name
PROFILE = REPO / "conformance/examples/dra-example-driver-local.yaml"
RESULTS = REPO / "results/example-driver"
STOP_TIMEOUT = 20.0
DEVICE_CLASS = f"""apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata:
  name: {DRIVER}
spec:
  selectors:
  - cel:
      expression: device.driver == '{DRIVER}'
"""


def echo(text: str) -> None:
    click.echo(f"{time.strftime('%H:%M:%S')} {text}", err=True)


def fakehw(*args: str) -> list[str]:
    return [sys.executable, "-m", "fakehw.cli", *args]


class Driver:
    """The kubelet plugin as a host process; what runs is recorded in a state file, read by
    ``restart-driver`` (the profile's restartCommand) and by ``down``."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def start(self, command: Sequence[str], env: dict[str, str], log: Path) -> int:
        with log.open("ab") as sink:
            process = subprocess.Popen(list(command), stdout=sink, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       env=dict(os.environ, **env))
        self.state.write_text(json.dumps({
            "pid": process.pid, "started": process_start_time(process.pid),
            "command": list(command), "env": env, "log": str(log)}, indent=2))
        return process.pid

    def record(self) -> dict[str, Any] | None:
        try:
            loaded: dict[str, Any] = json.loads(self.state.read_text())
        except (OSError, ValueError):
            return None
        return loaded

    def stop(self) -> None:
        """SIGTERM the recorded process (if it is still that process), SIGKILL after
        STOP_TIMEOUT."""
        record = self.record()
        if record is None:
            return
        if record.get("started"):
            end_process(int(record["pid"]), record["started"], STOP_TIMEOUT)

    def restart(self, registration: Path, timeout: float) -> tuple[int, int]:
        record = self.record()
        if record is None:
            raise click.ClickException(f"{self.state} records no driver")
        self.stop()
        new = self.start(record["command"], record["env"], Path(record["log"]))
        deadline = time.monotonic() + timeout
        while not listening(registration):
            if time.monotonic() > deadline or process_start_time(new) is None:
                raise click.ClickException(f"the driver did not serve {registration} again "
                                           f"within {timeout:.0f}s; see {record['log']}")
            time.sleep(0.1)
        return int(record["pid"]), new


class Job:
    def __init__(self, options: dict[str, Any]) -> None:
        self.o = options
        self.results: Path = options["results"]
        self.started_cluster = False
        self.status: dict[str, Any] = {}

    @property
    def driver(self) -> Driver:
        return Driver(Path(self.status["kubeconfig"]).parent / "example-driver.json")

    @property
    def node(self) -> dict[str, Any]:
        return dict(self.status["nodes"][0])

    @property
    def registration(self) -> Path:
        return Path(self.node["plugins_registry"]) / f"{DRIVER}-reg.sock"

    @functools.cached_property
    def kubectl_binary(self) -> Path:
        return Path(built_binary(sys.executable, "kubernetes", "kubectl"))

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        from fakehw.cluster.kubectl import Kubectl  # noqa: PLC0415

        kubectl = Kubectl(self.kubectl_binary, Path(self.status["kubeconfig"]))
        return kubectl.run(list(args), stdin=stdin).stdout

    def cluster(self) -> None:
        self.status = cluster_status(self.o["name"]) or {}
        if self.status.get("running"):
            echo(f"reusing the running cluster {self.o['name']!r} (left running afterwards)")
        else:
            self.started_cluster = True
            ports = ("apiserver_port", "etcd_port", "kubelet_port", "controller_manager_port",
                     "scheduler_port", "pod_subnet")
            flags = [x for key in ports for x in (f"--{key.replace('_', '-')}", str(self.o[key]))]
            subprocess.run(fakehw("cluster", "up", "--name", self.o["name"], "--nodes", "1",
                                  *flags), check=True)
            self.status = cluster_status(self.o["name"]) or {}
        self.driver.stop()  # what a run with --keep left

    def start_driver(self, binary: Path) -> None:
        node = self.node
        command = [str(binary), "--kubeconfig", self.status["kubeconfig"],
                   "--node-name", node["name"], "--cdi-root", node["cdi_dir"],
                   "--kubelet-registrar-directory-path", node["plugins_registry"],
                   "--kubelet-plugins-directory-path", node["plugins_dir"]]
        # NODE_NAME also names the node in its common CDI spec (a DaemonSet sets it)
        pid = self.driver.start(command, {"NODE_NAME": node["name"]},
                                self.results / "driver.log")
        echo(f"{PLUGIN} runs as pid {pid}, log {self.results / 'driver.log'}")

    def wait_for_slices(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            slices = json.loads(self.kubectl("get", "resourceslices", "-o", "json"))["items"]
            if any(s["spec"]["driver"] == DRIVER for s in slices):
                return
            time.sleep(1)
        raise click.ClickException(f"no ResourceSlice of {DRIVER} after {timeout:.0f}s; see "
                                   f"{self.results / 'driver.log'}")

    def profile(self) -> Path:
        """The example profile plus what only this run knows: node, CDI directory, restart."""
        document = yaml.safe_load(self.o["driver_profile"].read_text())
        spec = document["spec"]
        spec["nodes"] = [self.node["name"]]
        spec["cdi"] = {"specDirs": ["/etc/cdi", "/var/run/cdi", self.node["cdi_dir"]]}
        spec.setdefault("deployment", {"mode": "deployed"})["restartCommand"] = [
            sys.executable, str(Path(__file__).resolve()), "restart-driver",
            "--state", str(self.driver.state), "--registration", str(self.registration)]
        path = self.results / "driver-profile.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def certify(self) -> int:
        command = [sys.executable, "-m", "dra_conformance", "certify", "--driver-profile",
                   str(self.profile()), "--kubeconfig", self.status["kubeconfig"],
                   "--registration-socket", self.node["plugins_registry"],
                   "--node", self.node["name"], "--tier", "all",
                   "--kubelet-restart-command", shlex.join(fakehw(
                       "cluster", "restart-kubelet", "--name", self.o["name"])) + " {node}",
                   "--report-dir", str(self.results)]
        command += ["--seed", str(self.o["seed"])] if self.o["seed"] is not None else []
        return subprocess.run(command, check=False).returncode

    def cleanup(self) -> None:
        if not self.status.get("kubeconfig"):
            return
        self.driver.stop()
        self.driver.state.unlink(missing_ok=True)
        remove_driver_files(self.node)
        if self.started_cluster:
            subprocess.run(fakehw("cluster", "down", "--name", self.o["name"]), check=False)


def remove_driver_files(node: dict[str, Any]) -> None:
    """The driver's sockets, plugin directory (its checkpoint) and CDI specs on the node."""
    import shutil  # noqa: PLC0415

    Path(node["plugins_registry"], f"{DRIVER}-reg.sock").unlink(missing_ok=True)
    shutil.rmtree(Path(node["plugins_dir"], DRIVER), ignore_errors=True)
    for spec in Path(node["cdi_dir"]).glob(f"k8s.{DRIVER}-*"):
        spec.unlink()


@click.group(context_settings={"auto_envvar_prefix": "FAKEHW_EXAMPLE_DRIVER",
                               "show_default": True})
def main() -> None:
    """Certify sigs.k8s.io/dra-example-driver on a local cluster."""


@main.command("build")
@click.option("--version", default=VERSION, help=f"release of {MODULE}")
def build_command(version: str) -> None:
    """Build the kubelet plugin (once) and print its path."""
    click.echo(build(version))


@main.command()
@click.option("--name", default="exdrv", help="cluster name")
@click.option("--apiserver-port", type=int, default=7443)
@click.option("--etcd-port", type=int, default=3379)
@click.option("--kubelet-port", type=int, default=11250)
@click.option("--controller-manager-port", type=int, default=11257)
@click.option("--scheduler-port", type=int, default=11259)
@click.option("--pod-subnet", default="10.246.0.0/16")
@click.option("--version", default=VERSION, help=f"release of {MODULE}")
@click.option("--driver-profile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=PROFILE)
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=RESULTS)
@click.option("--seed", type=int, default=None, help="hypothesis seed [default: random]")
@click.option("--keep", is_flag=True, help="leave the cluster and the driver running")
@click.option("--publish", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="also copy report.md, report.html and junit_01.xml here, this machine's "
                   "paths shortened (home as ~, the checkout as .)")
def run(**options: Any) -> None:
    """Build, cluster, DeviceClass, driver, certify, cleanup; exits with certify's status."""
    options["results"] = options["results"].resolve()
    options["results"].mkdir(parents=True, exist_ok=True)
    job = Job(options)
    status = 2
    try:
        binary = timed("build", lambda: build(options["version"]))
        timed("cluster", job.cluster)
        timed("class", lambda: job.kubectl("apply", "-f", "-", stdin=DEVICE_CLASS))
        timed("driver", lambda: job.start_driver(binary))
        timed("slices", job.wait_for_slices)
        status = timed("certify", job.certify)
        if options["publish"] is not None:
            publish(options["results"], options["publish"])
    finally:
        if not options["keep"]:
            timed("cleanup", job.cleanup)
    sys.exit(status)


def publish(results: Path, target: Path) -> None:
    """The report as an example to commit: no path of this machine in it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("report.md", "report.html", "junit_01.xml"):
        text = (results / name).read_text()
        for path, short in ((str(REPO), "."), (str(Path.home()), "~")):
            text = text.replace(path + "/", short + "/")
        (target / name).write_text(text)
    echo(f"report published in {target}")


def timed(title: str, step: Any) -> Any:
    started = time.monotonic()
    echo(f"{title} ...")
    result = step()
    echo(f"{title} done ({time.monotonic() - started:.1f} s)")
    return result


@main.command("restart-driver")
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--registration", type=click.Path(path_type=Path), required=True,
              help="the registration socket the new process must serve")
@click.option("--timeout", type=float, default=60.0)
def restart_driver(state: Path, registration: Path, timeout: float) -> None:
    """Stop the recorded driver and start it again; wait until it serves REGISTRATION."""
    old, new = Driver(state).restart(registration, timeout)
    click.echo(f"restarted {PLUGIN}: pid {old} -> {new}")


@main.command()
@click.option("--name", default="exdrv", help="cluster name")
def down(name: str) -> None:
    """Stop what `run --keep` left: the driver, its files, then the cluster."""
    status = cluster_status(name) or {}
    if status.get("kubeconfig"):
        driver = Driver(Path(status["kubeconfig"]).parent / "example-driver.json")
        driver.stop()
        driver.state.unlink(missing_ok=True)
        if status.get("nodes"):
            remove_driver_files(status["nodes"][0])
    sys.exit(subprocess.run(fakehw("cluster", "down", "--name", name), check=False).returncode)


if __name__ == "__main__":
    main()

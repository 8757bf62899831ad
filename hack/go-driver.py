#!/usr/bin/env python3
"""Certify a Go DRA driver the project did not write, run as a host process of a local node.

``make certify-example-driver`` runs it on sigs.k8s.io/dra-example-driver, ``make
certify-test-driver`` on upstream's DRA test driver (test/e2e/dra/test-driver of
k8s.io/kubernetes, the build the cluster's companion driver comes from); ``make calibrate``
runs both on the cluster of ``make conformance``. The suite judges every driver as a black
box; the job's steps are timed:

    build     the kubelet plugin, once: dra-example-driver (VERSION pinned) from the Go
              module proxy into ~/.cache/fakehw/bin/dra-example-driver-VERSION
              ($FAKEHW_CACHE_DIR); the test driver by ``fakehw cluster build``
    cluster   fakehw cluster up --name exdrv, one node and no fake hardware: both drivers
              invent their devices and read no hardware (a running cluster is reused and
              kept, e.g. ``--name conformance`` for the one ``make conformance --keep`` left)
    class     the driver's DeviceClass, selecting every device of the driver
    driver    the kubelet plugin as a host process, run as the cluster's admin, over the
              node's kubelet directories and its CDI directory
    slices    wait until its pool is published
    certify   dra-conformance certify --tier all with the driver's example profile
              (conformance/examples/), completed for the run
    cleanup   stop the driver by its PID, remove its sockets, data and CDI specs, then the
              cluster if this run started it (``--keep`` leaves both running; ``down``
              stops them later)

Results go to ``results/<driver>/``; the exit status is certify's. Every option is also an
environment variable (``--results`` is ``FAKEHW_GO_DRIVER_RUN_RESULTS``).
"""

from __future__ import annotations

import dataclasses
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
from conformancejob import exampledriver
from conformancejob.job import built_binary, cluster_status
from conformancejob.publish import publish
from conformancejob.supervisor import end_process, listening, process_start_time

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "conformance/examples"
STOP_TIMEOUT = 20.0


@dataclasses.dataclass(frozen=True)
class GoDriver:
    """A driver this job can run: how to build it and start it on a node."""

    key: str  # the --driver choice, and the results folder's name
    name: str  # the DRA driver name it serves (its DeviceClass is named alike)
    plugin: str  # the kubelet plugin's binary name
    profile: Path  # the suite's profile for it

    def build(self, version: str) -> Path:
        if self.key == "dra-example-driver":
            return exampledriver.build(version)
        return Path(built_binary(sys.executable, "dra-test-driver", self.plugin))

    def command(self, binary: Path, node: dict[str, Any], kubeconfig: str) -> list[str]:
        if self.key == "dra-example-driver":
            return [str(binary), "--kubeconfig", kubeconfig, "--node-name", node["name"],
                    "--cdi-root", node["cdi_dir"],
                    "--kubelet-registrar-directory-path", node["plugins_registry"],
                    "--kubelet-plugins-directory-path", node["plugins_dir"]]
        return [str(binary), f"--kubeconfig={kubeconfig}", f"--drivername={self.name}",
                "kubelet-plugin", f"--node-name={node['name']}", f"--cdi-dir={node['cdi_dir']}",
                f"--plugin-registration-path={node['plugins_registry']}",
                f"--datadir={node['plugins_dir']}"]  # it serves in datadir/<its name>/

    def cdi_specs(self, node: dict[str, Any]) -> list[Path]:
        """The CDI spec files it wrote on the node (its common spec included)."""
        folder = Path(node["cdi_dir"])
        return [*folder.glob(f"k8s.{self.name}-*"), *folder.glob(f"{self.name}-*.json")]

    def device_class(self) -> str:
        return json.dumps({"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass",
                           "metadata": {"name": self.name}, "spec": {"selectors": [
                               {"cel": {"expression": f"device.driver == '{self.name}'"}}]}})


DRIVERS = {d.key: d for d in (
    # its gpu profile's default driver name
    GoDriver("dra-example-driver", "gpu.example.com", exampledriver.PLUGIN,
             EXAMPLES / "dra-example-driver.yaml"),
    # a name of its own, beside the companion instance of the same binary (other.fakehw.dev)
    GoDriver("dra-test-driver", "test-driver.calibration.fakehw.dev", "dra-test-driver",
             EXAMPLES / "dra-test-driver-local.yaml"))}


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
        self.go: GoDriver = DRIVERS[options["driver"]]
        self.results: Path = options["results"]
        self.started_cluster = False
        self.status: dict[str, Any] = {}

    @property
    def driver(self) -> Driver:
        return state_of(self.go, self.status)

    @property
    def node(self) -> dict[str, Any]:
        return dict(self.status["nodes"][0])

    @property
    def registration(self) -> Path:
        return Path(self.node["plugins_registry"]) / f"{self.go.name}-reg.sock"

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
                                  "--no-services", *flags), check=True)
            self.status = cluster_status(self.o["name"]) or {}
        self.driver.stop()  # what a run with --keep left

    def start_driver(self, binary: Path) -> None:
        node = self.node
        command = self.go.command(binary, node, self.status["kubeconfig"])
        # the test driver listens in plugins/<its name>/ but does not make that folder
        Path(node["plugins_dir"], self.go.name).mkdir(parents=True, exist_ok=True)
        # NODE_NAME also names the node in the example driver's common CDI spec (a DaemonSet
        # sets it)
        pid = self.driver.start(command, {"NODE_NAME": node["name"]},
                                self.results / "driver.log")
        echo(f"{self.go.plugin} runs as pid {pid}, log {self.results / 'driver.log'}")

    def wait_for_slices(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        log = self.results / "driver.log"
        while time.monotonic() < deadline:
            record = self.driver.record() or {}
            if process_start_time(int(record.get("pid", 0))) != record.get("started"):
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
                raise click.ClickException(f"{self.go.plugin} exited before it published "
                                           f"slices; the end of {log}:\n{tail}")
            slices = json.loads(self.kubectl("get", "resourceslices", "-o", "json"))["items"]
            if any(s["spec"]["driver"] == self.go.name for s in slices):
                return
            time.sleep(1)
        raise click.ClickException(f"no ResourceSlice of {self.go.name} after {timeout:.0f}s; see "
                                   f"{self.results / 'driver.log'}")

    def profile(self) -> Path:
        """The example profile plus what only this run knows: node, CDI directory, restart."""
        document = yaml.safe_load((self.o["driver_profile"] or self.go.profile).read_text())
        spec = document["spec"]
        spec["nodes"] = [self.node["name"]]
        spec["cdi"] = {"specDirs": ["/etc/cdi", "/var/run/cdi", self.node["cdi_dir"]]}
        spec.setdefault("deployment", {"mode": "deployed"})["restartCommand"] = [
            sys.executable, str(Path(__file__).resolve()), "restart-driver",
            "--driver", self.go.key, "--state", str(self.driver.state),
            "--registration", str(self.registration)]
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
        if self.o["companion_class"]:
            command += ["--companion-class", self.o["companion_class"]]
        return subprocess.run(command, check=False).returncode

    def cleanup(self) -> None:
        if not self.status.get("kubeconfig"):
            return
        self.driver.stop()
        self.driver.state.unlink(missing_ok=True)
        remove_driver_files(self.go, self.node)
        if self.started_cluster:
            subprocess.run(fakehw("cluster", "down", "--name", self.o["name"]), check=False)


def state_of(go: GoDriver, status: dict[str, Any]) -> Driver:
    """What runs of ``go`` on the cluster of ``status``, as recorded beside its kubeconfig."""
    return Driver(Path(status["kubeconfig"]).parent / f"{go.key}.json")


def remove_driver_files(go: GoDriver, node: dict[str, Any]) -> None:
    """The driver's sockets, plugin directory (its checkpoint) and CDI specs on the node."""
    import shutil  # noqa: PLC0415

    Path(node["plugins_registry"], f"{go.name}-reg.sock").unlink(missing_ok=True)
    shutil.rmtree(Path(node["plugins_dir"], go.name), ignore_errors=True)
    for spec in go.cdi_specs(node):
        spec.unlink()


DRIVER_OPTION = click.option("--driver", type=click.Choice(sorted(DRIVERS)),
                             default="dra-example-driver", help="which driver")


@click.group(context_settings={"auto_envvar_prefix": "FAKEHW_GO_DRIVER", "show_default": True})
def main() -> None:
    """Certify a Go DRA driver (dra-example-driver, upstream's test driver) on a local
    cluster."""


@main.command("build")
@DRIVER_OPTION
@click.option("--version", default=exampledriver.VERSION,
              help=f"release of {exampledriver.MODULE}")
def build_command(driver: str, version: str) -> None:
    """Build the kubelet plugin (once) and print its path."""
    click.echo(DRIVERS[driver].build(version))


@main.command()
@DRIVER_OPTION
@click.option("--name", default="exdrv", help="cluster name")
@click.option("--apiserver-port", type=int, default=7443)
@click.option("--etcd-port", type=int, default=3379)
@click.option("--kubelet-port", type=int, default=11250)
@click.option("--controller-manager-port", type=int, default=11257)
@click.option("--scheduler-port", type=int, default=11259)
@click.option("--pod-subnet", default="10.246.0.0/16")
@click.option("--version", default=exampledriver.VERSION,
              help=f"release of {exampledriver.MODULE} (the test driver is the cluster's)")
@click.option("--driver-profile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="[default: the driver's in conformance/examples/]")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="[default: results/DRIVER/]")
@click.option("--seed", type=int, default=None, help="hypothesis seed [default: random]")
@click.option("--companion-class", default="",
              help="DeviceClass of another driver on the node (DRA-MULTI-001)")
@click.option("--keep", is_flag=True, help="leave the cluster and the driver running")
@click.option("--publish", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="also copy report.md, report.html and junit_01.xml here, this machine's "
                   "paths shortened (home as ~, the checkout as .)")
def run(**options: Any) -> None:
    """Build, cluster, DeviceClass, driver, certify, cleanup; exits with certify's status."""
    options["results"] = (options["results"] or REPO / "results" / options["driver"]).resolve()
    options["results"].mkdir(parents=True, exist_ok=True)
    job = Job(options)
    status = 2
    try:
        binary = timed("build", lambda: job.go.build(options["version"]))
        timed("cluster", job.cluster)
        timed("class", lambda: job.kubectl("apply", "-f", "-", stdin=job.go.device_class()))
        timed("driver", lambda: job.start_driver(binary))
        timed("slices", job.wait_for_slices)
        status = timed("certify", job.certify)
        if options["publish"] is not None:
            publish(options["results"], options["publish"])
            echo(f"report published in {options['publish']}")
    finally:
        if not options["keep"]:
            timed("cleanup", job.cleanup)
    sys.exit(status)


def timed(title: str, step: Any) -> Any:
    started = time.monotonic()
    echo(f"{title} ...")
    result = step()
    echo(f"{title} done ({time.monotonic() - started:.1f} s)")
    return result


@main.command()
@click.option("--version", default=exampledriver.VERSION,
              help=f"release of {exampledriver.MODULE}")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=REPO / "results" / "dra-example-driver-chart")
@click.option("--seed", type=int, default=None, help="hypothesis seed [default: random]")
@click.option("--keep", is_flag=True, help="leave the cluster and the driver running")
@click.option("--publish", "publish_to", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="also copy the report here, this machine's paths shortened")
def chart(version: str, results: Path, seed: int | None, keep: bool,
          publish_to: Path | None) -> None:
    """dra-example-driver from its own Helm chart: an image of the static plugin (the name
    the chart gives by default), then `dra-conformance run` on a 2-node cluster."""
    image = results.parent / f"{results.name}-image.tar"
    image.parent.mkdir(parents=True, exist_ok=True)
    name = timed("image", lambda: exampledriver.image(version, image))
    echo(f"image {name} in {image}")
    command = [sys.executable, "-m", "dra_conformance", "run", "--image", str(image),
               "--chart", str(exampledriver.chart(version)), "--release", "dra-example-driver",
               "--namespace", "dra-example-driver",
               "--driver-profile", str(EXAMPLES / "dra-example-driver.yaml"),
               "--hardware-profile", "numa-mixed", "--nodes", "2", "--results", str(results),
               *(["--seed", str(seed)] if seed is not None else []),
               *(["--keep"] if keep else [])]
    echo(f"$ {shlex.join(command)}")
    status = subprocess.run(command, check=False).returncode
    if publish_to is not None and (results / "report.md").exists():
        publish(results, publish_to)
        echo(f"report published in {publish_to}")
    sys.exit(status)


@main.command("restart-driver")
@DRIVER_OPTION
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--registration", type=click.Path(path_type=Path), required=True,
              help="the registration socket the new process must serve")
@click.option("--timeout", type=float, default=60.0)
def restart_driver(driver: str, state: Path, registration: Path, timeout: float) -> None:
    """Stop the recorded driver and start it again; wait until it serves REGISTRATION."""
    old, new = Driver(state).restart(registration, timeout)
    click.echo(f"restarted {DRIVERS[driver].plugin}: pid {old} -> {new}")


@main.command()
@click.option("--name", default="exdrv", help="cluster name")
def down(name: str) -> None:
    """Stop what `run --keep` left: every driver of this job, its files, then the cluster."""
    status = cluster_status(name) or {}
    if status.get("kubeconfig"):
        for go in DRIVERS.values():
            driver = state_of(go, status)
            driver.stop()
            driver.state.unlink(missing_ok=True)
            if status.get("nodes"):
                remove_driver_files(go, status["nodes"][0])
    sys.exit(subprocess.run(fakehw("cluster", "down", "--name", name), check=False).returncode)


if __name__ == "__main__":
    main()

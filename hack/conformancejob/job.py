"""The steps of one run, timed, and the cleanup that follows every way out of them.

A step that fails raises JobError (or DriverError) with what to look at; a signal ends the
run through the same ``finally``; cleanup itself ignores signals, since a second ^C must not
leave drivers or a cluster behind. A cluster this run did not start is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from dra_conformance.testbed.signals import signals_as_exit, signals_ignored

from . import commands, pods
from .settings import ACCESS, DRIVER, REPO, JobSettings, Node, nodes_from_status, registry_of
from .supervisor import Supervised, Supervisor, stop_recorded

SLICES_TIMEOUT = 120.0
STUCK_EVERY = 3  # polls of the slices (1 s apart) between looks at the driver's pods
Echo = Callable[[str], None]


class JobError(RuntimeError):
    """A step that could not be done; the message says what to look at."""


class Job:
    """One run; each public method is a step."""

    def __init__(self, settings: JobSettings, echo: Echo) -> None:
        self.s = settings
        self.echo = echo
        self.supervisor = Supervisor(Path(), echo)  # its registry is known with the cluster
        self.started_cluster = False
        self.kubeconfig = Path()
        self.kubectl = ""
        self.companion = ""  # upstream's DRA test driver binary
        self.nodes: list[Node] = []
        self.cameras: list[dict[str, Any]] = []
        self.camera_control: Path | None = None  # the folder of the cameras' control socket
        self.pods: pods.DriverPods | None = None  # the driver, when it runs as pods
        self.workloads: list[dict[str, Any]] = []
        self.pod_restarts: dict[str, int] = {}  # pod -> restarts after exiting on its own
        self.timings: dict[str, float] = {}

    def run(self, command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if self.s.verbose:
            self.echo(f"[dim]$ {_escape(shlex.join(command))}[/]")
        return subprocess.run(list(command), text=True, check=False, **kwargs)

    def status(self) -> dict[str, Any] | None:
        return cluster_status(self.s.name, self.s.python)

    def prepare_results(self) -> None:
        """An empty results directory; one holding anything but an earlier run's results
        is refused, not emptied."""
        results = self.s.results
        ours = (results / "drivers").is_dir() or (results / "driver-profile.yaml").exists()
        if results.is_dir() and any(results.iterdir()) and not ours:
            raise JobError(f"{results} holds files of something else; give an empty or new "
                           "directory with --results")
        shutil.rmtree(results, ignore_errors=True)
        self.s.work.mkdir(parents=True)

    def cluster(self) -> None:
        status = self.status()
        if status is not None and status.get("running"):
            self.echo(f"reusing the running cluster {self.s.name!r} (left running afterwards)")
        else:
            chosen = self.s.profiles_by_node()
            if self.s.camera_port is not None:
                for index, profile in chosen.items():
                    path = self.s.results / f"hardware-profile-{index}.yaml"
                    path.write_text(commands.with_camera_port(hardware_profile_text(profile),
                                                              self.s.camera_port))
                    chosen[index] = str(path)
            self.started_cluster = True
            up = commands.cluster_up(self.s, chosen)
            if self.s.verbose:
                self.echo(f"[dim]$ {_escape(shlex.join(up))}[/]")
            if run_group(up) != 0:  # interrupted, it first gets SIGINT: it undoes itself
                raise JobError("fakehw cluster up failed (see above)")
            status = self.status()
        if status is None or not status.get("running"):
            raise JobError(f"cluster {self.s.name!r} is not running after up")
        self.supervisor.registry = registry_of(status)
        stop_recorded(self.supervisor.registry, self.echo)  # what a run with --keep left
        self.kubeconfig = Path(status["kubeconfig"])
        self.nodes = nodes_from_status(status)
        self.kubectl = built_binary(self.s.python, "kubernetes", "kubectl")
        if self.s.companion:
            self.companion = built_binary(self.s.python, "dra-test-driver", "dra-test-driver")

    def apply_classes(self) -> None:
        """The DeviceClasses (the companion driver's too), and the drivers' service
        accounts, RBAC and admission policies."""
        companion = self.s.work / "companion-class.json"
        companion.write_text(commands.companion_class())
        for manifest in (self.s.device_classes, *([companion] if self.s.companion else []),
                         *ACCESS):
            done = self.run([self.kubectl, f"--kubeconfig={self.kubeconfig}", "apply", "-f",
                             str(manifest)], capture_output=True)
            if done.returncode != 0:
                raise JobError(f"applying {manifest}: {done.stderr.strip()}")

    def start_drivers(self) -> None:
        """The reference driver, as pods or as host processes, and the companion driver."""
        cameras = self._cameras_config()
        if self.s.driver_deploy == "pods":
            self._deploy_pods(cameras)
        else:
            self._start_processes(cameras)
        if self.s.companion:
            first = self.nodes[0]
            socket = commands.companion_socket(first)
            if len(str(socket)) > commands.UNIX_PATH_MAX:
                raise JobError(f"the companion driver's socket {socket} is longer than "
                               f"{commands.UNIX_PATH_MAX} bytes: the cluster keeps its "
                               "kubelet folders deep (made by an older fakehw); recreate it "
                               f"with `fakehw cluster down --name {self.s.name}` and run again")
            # it listens in plugins/<driver>/ but does not make the folder
            (first.plugins_dir / commands.COMPANION_DRIVER).mkdir(parents=True, exist_ok=True)
            self.supervisor.add(Supervised(
                f"companion driver {commands.COMPANION_DRIVER} on {first.name}",
                commands.companion_driver(self.companion, first, self.kubeconfig),
                self.s.work / "companion-driver.log"))

    def _deploy_pods(self, cameras: Path | None) -> None:
        """The driver's image built and loaded into every node; its DaemonSet (a copy per
        node) and camera controller applied, running as their service accounts."""
        archive = self.s.work / "dra-reference.tar"
        image, digest = pods.build_image(archive, commands.driver_version())
        self.echo(f"  image {image}: {archive.stat().st_size / 2**20:.0f} MiB")
        done = self.run(self.s.fakehw("cluster", "load-image", "--name", self.s.name,
                                      str(archive)), capture_output=True)
        archive.unlink()
        if done.returncode != 0:
            raise JobError(f"loading {image} into the nodes failed: {done.stderr.strip()}")
        settings = pods.PodSettings(image, self.kubeconfig, cameras, self.camera_control,
                                    commands.log_level(self.s), digest)
        self.workloads = [*pods.plugin_daemonsets(self.nodes, settings),
                          *([pods.camera_controller(settings)] if cameras else [])]
        self.pods = pods.DriverPods(self.kubectl, self.kubeconfig, cluster=self.s.name)
        self.pods.apply(self.workloads)

    def _start_processes(self, cameras: Path | None) -> None:
        """Each driver a host process acting as its own service account
        (drivers/deploy/rbac.yaml), kept running by the supervisor."""
        admin = self.kubeconfig.read_text()
        for node in self.nodes:
            kubeconfig = self._kubeconfig(f"kubeconfig-plugin-{node.index}", commands.acting_as(
                admin, commands.PLUGIN_ACCOUNT, node.name))
            self.supervisor.add(Supervised(
                f"kubelet plugin of {node.name}",
                commands.kubelet_plugin(self.s, node, kubeconfig, cameras),
                self.s.work / f"kubelet-plugin-{node.index}.log", node=node.name))
        if cameras is not None:
            kubeconfig = self._kubeconfig("kubeconfig-camera-controller", commands.acting_as(
                admin, commands.CONTROLLER_ACCOUNT))
            self.supervisor.add(Supervised(
                "camera controller", commands.camera_controller(self.s, kubeconfig, cameras),
                self.s.work / "camera-controller.log"))

    def _kubeconfig(self, name: str, text: str) -> Path:
        path = self.s.work / name
        path.write_text(text)
        path.chmod(0o600)
        return path

    def _cameras_config(self) -> Path | None:
        """The cameras file, from the first tree that runs cameras (they run once)."""
        for node in self.nodes:
            state = node.hardware_root / ".fakehw"
            with contextlib.suppress(OSError, ValueError, KeyError):
                self.cameras = json.loads((state / "cameras.json").read_text())["cameras"]
            if self.cameras:
                path = self.s.work / "cameras.yaml"
                path.write_text(commands.cameras_file(self.cameras, state / "cameras.sock"))
                self.camera_control = state
                return path
        return None

    def wait_for_slices(self) -> None:
        wanted = {(DRIVER, pool) for pool in (*(n.name for n in self.nodes),
                                              *(f"camera-{c['name']}" for c in self.cameras))}
        if self.s.companion:
            wanted.add((commands.COMPANION_DRIVER, self.nodes[0].name))
        deadline = time.monotonic() + SLICES_TIMEOUT
        polls = 0
        while True:
            self.supervisor.check_running()
            polls += 1
            if self.pods is not None and polls % STUCK_EVERY == 0 and (
                    stuck := self.pods.stuck()) is not None:
                raise JobError(f"the driver's pods do not start ({stuck}):\n"
                               f"{self.pods.problems()}")
            done = self.run([self.kubectl, f"--kubeconfig={self.kubeconfig}", "get",
                             "resourceslices", "-o", "json"], capture_output=True)
            items = json.loads(done.stdout)["items"] if done.returncode == 0 else []
            missing = wanted - {(i["spec"]["driver"], i["spec"]["pool"]["name"]) for i in items}
            if not missing:
                return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {d.label}:\n{d.tail(10)}" for d in self.supervisor.drivers)
                logs += f"\n{self.pods.problems()}" if self.pods is not None else ""
                raise JobError(f"after {SLICES_TIMEOUT:.0f}s these pools are still missing: "
                               f"{sorted(missing)}\n{logs}")
            time.sleep(1)

    def certify(self) -> int:
        example = yaml.safe_load(self.s.driver_profile.read_text())
        first, update = self.nodes[0], []
        if self.pods is not None:
            restart = commands.restart_pod(self.s, self.kubectl, self.kubeconfig, first.name)
            update = commands.restart_pod(self.s, self.kubectl, self.kubeconfig, "{node}",
                                          rolling=True)
        else:
            restart = commands.restart_driver(self.s, self.supervisor.registry, first)
        profile = commands.run_profile(example, self.nodes, restart, update)
        path = self.s.results / "driver-profile.yaml"
        path.write_text(f"# {self.s.driver_profile}, completed for this run by "
                        f"hack/conformance.py\n" + yaml.safe_dump(profile, sort_keys=False))
        command = commands.certify(self.s, path, self.kubeconfig, self.nodes[0])
        self.echo(f"$ {_escape(shlex.join(command))}")
        return run_group(command)

    def cleanup(self) -> None:
        if self.pods is not None:
            self.pod_restarts = self.pods.save_logs(self.s.work)
        if self.s.keep:
            return
        self.supervisor.stop()
        if self.pods is not None and not self.started_cluster:
            self.pods.delete(self.workloads)
        if self.started_cluster:
            self.run(self.s.fakehw("cluster", "down", "--name", self.s.name))
            return
        for node in self.nodes:  # a reused cluster stays; sockets a crash left do not
            for path in (*node.registry_dir.glob(f"{DRIVER}-*-reg.sock"),
                         *(node.plugins_dir / DRIVER).glob("dra-*.sock"),
                         commands.companion_socket(node),
                         node.plugins_dir / commands.COMPANION_DRIVER / "dra.sock"):
                path.unlink(missing_ok=True)


def cluster_status(name: str, python: str = sys.executable) -> dict[str, Any] | None:
    """``fakehw cluster status --json`` of cluster ``name`` (None: it gave no answer)."""
    done = subprocess.run([python, "-m", "fakehw.cli", "cluster", "status", "--name", name,
                           "--json"], capture_output=True, text=True, check=False)
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else None


def built_binary(python: str, component: str, binary: str) -> str:
    """The path of ``binary``, which ``fakehw cluster build --component`` builds or finds."""
    done = subprocess.run([python, "-m", "fakehw.cli", "cluster", "build", "--component",
                           component], capture_output=True, text=True, check=False)
    found = dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)
    if binary not in found:
        raise JobError(f"`fakehw cluster build --component {component}` named no {binary}: "
                       f"{done.stderr.strip()[-2000:]}")
    return found[binary]


def setup_steps(job: Job) -> list[tuple[str, Callable[[], object]]]:
    """The steps up to a cluster whose drivers published every pool (``make demo``'s too)."""
    s = job.s
    return [
        ("results directory", job.prepare_results),
        (f"cluster {s.name!r} ({', '.join(s.profiles_by_node().values())})", job.cluster),
        ("DeviceClasses, the drivers' RBAC and admission policies", job.apply_classes),
        ("reference driver (kubelet plugins, camera controller) and a companion driver",
         job.start_drivers),
        ("ResourceSlices of every node and camera", job.wait_for_slices),
    ]


def execute(job: Job) -> int:
    """Every step, timed; cleanup on every way out; certify's exit status."""
    s = job.s
    steps = setup_steps(job)
    status: int | None = None
    ended = "a step failed"
    try:
        with signals_as_exit():
            for title, step in steps:
                timed(job, title, step)
            status = int(timed(job, f"certify --tier {s.tier}", job.certify))
    except (KeyboardInterrupt, SystemExit):
        ended = "interrupted"
        raise
    finally:
        with signals_ignored():
            timed(job, "cleanup" + (" (skipped: --keep)" if s.keep else ""), job.cleanup)
            summary(job, status, ended)
    return 2 if status is None else status


def console_echo() -> Echo:
    """Timestamped lines with rich markup on stderr."""
    from rich.console import Console  # noqa: PLC0415

    console = Console(stderr=True, highlight=False)

    def echo(text: str) -> None:
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {text}")
    return echo


def timed(job: Job, title: str, step: Callable[[], Any]) -> Any:
    job.echo(f"[bold]▶ {_escape(title)}[/]")
    start = time.monotonic()
    try:
        return step()
    finally:
        job.timings[title] = time.monotonic() - start
        job.echo(f"[dim]  {_escape(title)}: {job.timings[title]:.1f}s[/]")


def summary(job: Job, status: int | None, ended: str = "a step failed") -> None:
    for driver in job.supervisor.drivers:
        if driver.starts > 1:
            job.echo(f"{driver.label}: restarted {driver.requested_restarts} time(s) by the "
                     f"suite, {driver.crashes} time(s) after exiting on its own")
    for pod, restarts in job.pod_restarts.items():
        if restarts:
            job.echo(f"pod {pod}: its container restarted {restarts} time(s) after exiting "
                     f"on its own (the last one's log: drivers/{pod}.previous.log)")
    try:
        report = json.loads((job.s.results / "report.json").read_text())
    except (OSError, ValueError):
        report = {}
    for tier, seconds in sorted(commands.tier_seconds(report).items()):
        job.echo(f"{tier} tier: {seconds:.0f}s of tests")
    job.echo(f"total {sum(job.timings.values()):.0f}s; results in {job.s.results} "
             "(report.md, report.html, junit_01.xml, e2e.log, drivers/)")
    kept = (f"; cluster {job.s.name!r} and its drivers keep running (--keep): stop them with "
            f"`hack/conformance.py down --name {job.s.name}`") if job.s.keep else ""
    job.echo((f"certify did not finish: {ended}" if status is None else
              f"certify exited {status}") + kept)


def run_group(command: Sequence[str]) -> int:
    """Run ``command`` in a process group of its own; whatever ends the wait (^C, SIGTERM)
    ends the whole group too, so no pytest of certify's outlives the run."""
    child = subprocess.Popen(list(command), start_new_session=True)
    try:
        return child.wait()
    except BaseException:
        for sig, grace in ((signal.SIGINT, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sig)
            try:
                child.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        raise


def hardware_profile_text(name_or_path: str) -> str:
    path = Path(name_or_path)
    if path.is_file():
        return path.read_text()
    builtin = REPO / "fakehw/profiles/builtin" / f"{name_or_path}.yaml"
    if not builtin.is_file():
        raise JobError(f"--hardware-profile {name_or_path}: no such file or built-in profile")
    return builtin.read_text()


def _escape(text: str) -> str:
    from rich.markup import escape  # noqa: PLC0415

    return escape(text)

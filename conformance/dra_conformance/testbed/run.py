"""The steps of one ``dra-conformance run``, timed, and the cleanup after every way out.

The verdict is one of: certify's own (exit 0 certified, 1 not), or "not certified: the driver
did not start" (exit 1) with the reason and a diagnosis in ``not-started.md`` and
``report.json``. ``run.json`` records the inputs, the steps' seconds and the verdict.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import config
from rich.console import Console

from dra_conformance.testbed import companion, deployment
from dra_conformance.testbed.deployment import DeployError, Tools
from dra_conformance.testbed.pods import DriverPods, NotStarted
from dra_conformance.testbed.settings import RunSettings, check
from dra_conformance.testbed.signals import signals_as_exit, signals_ignored
from fakehw.cluster.binaries import ensure_binaries
from fakehw.cluster.providers.base import NodeInfo
from fakehw.cluster.providers.local import LocalProvider
from fakehw.cluster.settings import ClusterSettings

T = TypeVar("T")
NOT_STARTED = "not certified: the driver did not start"


class Run:
    def __init__(self, settings: RunSettings, console: Console) -> None:
        self.s = settings
        self.console = console
        self.timings: dict[str, float] = {}
        self.provider = LocalProvider()
        self.cluster = ClusterSettings(name=settings.cluster, nodes=settings.nodes,
                                       hardware_profiles=settings.hardware_profiles,
                                       services=True, **settings.cluster_settings)
        self.started_cluster = False
        self.installed = False
        self.objects: list[dict[str, Any]] = []
        self.daemonsets: list[tuple[str, str]] = []
        self.companion_binary = Path()
        self.companion: subprocess.Popen[bytes] | None = None
        self.tools = Tools(Path("helm"), Path("kubectl"))
        self.nodes: list[NodeInfo] = []

    def step(self, title: str, action: Callable[[], T]) -> T:
        self.console.print(f"[bold]•[/] {title}")
        started = time.monotonic()
        try:
            return action()
        finally:
            self.timings[title] = round(time.monotonic() - started, 1)
            self.console.print(f"  [dim]{self.timings[title]} s[/]")

    # -- the steps ---------------------------------------------------------------------

    def tools_at_hand(self) -> None:
        found = ensure_binaries(components={"kubernetes", "helm", companion.BINARY},
                                console=self.console)
        self.tools = Tools(found["helm"], found["kubectl"])
        self.companion_binary = found[companion.BINARY]

    def render(self) -> None:
        try:
            self.objects = deployment.render(self.s.shipped, self.tools)
        except DeployError as error:
            raise NotStarted(f"the {self.s.shipped.kind} does not render", str(error)) from None
        self.daemonsets = deployment.daemonsets(self.objects, self.s.shipped.namespace)

    def up(self) -> None:
        status = self.provider.status(self.cluster)
        if status.running:
            self.console.print(f"  using the running cluster {self.cluster.name!r} "
                               "(left running afterwards)")
        else:
            self.started_cluster = True
            status = self.provider.up(self.cluster, self.console)
        if status.kubeconfig is None:
            raise DeployError(f"cluster {self.cluster.name!r} reports no kubeconfig")
        self.tools = Tools(self.tools.helm, self.tools.kubectl, status.kubeconfig)
        self.nodes = self.provider.nodes(self.cluster)

    def load_images(self) -> None:
        for archive in self.s.images:
            self.provider.load_image(self.cluster, archive, self.console)

    def install(self) -> None:
        self.installed = True  # a half-done install is undone too
        try:
            deployment.install(self.s.shipped, self.tools, self.objects)
        except DeployError as error:
            raise NotStarted(f"the {self.s.shipped.kind} does not install", str(error)) from None

    def wait(self) -> None:
        profile = yaml.safe_load(self.s.profile.read_text())
        api = config.new_client_from_config(config_file=str(self.tools.kubeconfig))  # type: ignore[no-untyped-call]
        pods = DriverPods(api, self.daemonsets, profile["spec"]["driver"]["name"])
        pods.wait_until_up(self.s.start_timeout)

    def start_companion(self) -> None:
        """Upstream's DRA test driver as a second driver of the first node (a host process
        that writes CDI specs where that node's runtime reads them): what the several-
        drivers-per-node requirements need beside the driver under test."""
        first = self.nodes[0]
        self.tools.run_kubectl(["apply", "-f", "-"], stdin=companion.device_class())
        log = (self.s.results / "companion-driver.log").open("wb")
        (Path(first.plugins_dir) / companion.DRIVER).mkdir(parents=True, exist_ok=True)
        self.companion = subprocess.Popen(
            companion.command(self.companion_binary, self.tools.kubeconfig or "", first.name,
                              cdi_dir=first.cdi_dir, registry_dir=first.plugins_registry,
                              plugins_dir=first.plugins_dir),
            stdout=log, stderr=subprocess.STDOUT)
        socket = companion.socket(first.plugins_registry)
        deadline = time.monotonic() + 60
        while not socket.is_socket():
            if self.companion.poll() is not None or time.monotonic() > deadline:
                raise DeployError(f"the companion driver did not start; see {log.name}")
            time.sleep(0.2)

    def certify(self) -> int:
        profile = self.s.results / "driver-profile.yaml"
        profile.write_text(yaml.safe_dump(self.run_profile(), sort_keys=False))
        first = self.nodes[0]
        # The socket tier plays the first node's kubelet: it dials the socket path a driver
        # announces from inside its container (/var/lib/kubelet/...) below that node's root.
        command = [sys.executable, "-m", "dra_conformance", "certify",
                   "--driver-profile", str(profile), "--kubeconfig", str(self.tools.kubeconfig),
                   "--registration-socket", first.plugins_registry,
                   "--kubelet-root", first.kubelet_dir,
                   "--node", first.name, "--companion-class", companion.DRIVER,
                   "--tier", self.s.tier, "--hypothesis-profile", self.s.hypothesis_profile,
                   "--report-dir", str(self.s.results),
                   "--kubelet-restart-command", shlex.join([
                       sys.executable, "-m", "fakehw.cli", "cluster", "restart-kubelet",
                       "--name", self.cluster.name]) + " {node}"]
        if first.hardware_root:
            command += ["--fakehw-root", first.hardware_root]
        if self.s.seed is not None:
            command += ["--seed", str(self.s.seed)]
        return subprocess.run(command, check=False).returncode

    def run_profile(self) -> dict[str, Any]:
        """The vendor's profile, told the driver is deployed, on which nodes, where the first
        node's runtime reads CDI specs, and how to restart or roll the plugin pods."""
        profile: dict[str, Any] = yaml.safe_load(self.s.profile.read_text())
        spec = profile.setdefault("spec", {})
        spec["nodes"] = [n.name for n in self.nodes]
        spec["cdi"] = {"specDirs": [d for d in ("/etc/cdi", "/var/run/cdi",
                                                self.nodes[0].cdi_dir) if d]}
        restart = [sys.executable, "-m", "dra_conformance", "restart-pods",
                   "--kubeconfig", str(self.tools.kubeconfig),
                   "--namespace", self.s.shipped.namespace]
        accounts = {o["spec"]["template"]["spec"].get("serviceAccountName", "default")
                     for o in self.objects if o.get("kind") == "DaemonSet"}
        if "nodeIdentity" not in spec and len(accounts) == 1:
            # what the plugin's pod token says: its service account and its node
            account, namespace = accounts.pop(), self.s.shipped.namespace
            spec["nodeIdentity"] = {
                "user": f"system:serviceaccount:{namespace}:{account}",
                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                           "system:authenticated"],
                "extra": {"authentication.kubernetes.io/node-name": ["{node}"]}}
        spec["deployment"] = {
            "mode": "deployed",
            "restartCommand": [*restart, "--node", self.nodes[0].name],
            "updateCommand": [*restart, "--node", "{node}", "--rolling"],
            "readyTimeoutSeconds": spec.get("deployment", {}).get("readyTimeoutSeconds", 120),
        }
        return profile

    # -- cleanup -------------------------------------------------------------------------

    def cleanup(self) -> None:
        if self.companion is not None and not self.s.keep:
            self.companion.terminate()
            try:
                self.companion.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.companion.kill()
                self.companion.wait()
        if self.s.keep:
            self.console.print(f"[yellow]left running (--keep): cluster {self.cluster.name!r}"
                               f", KUBECONFIG={self.tools.kubeconfig}[/]")
            return
        if self.installed and not self.started_cluster:
            with suppress(DeployError):
                self.step("uninstall the driver", lambda: deployment.uninstall(
                    self.s.shipped, self.tools, self.objects))
                self.tools.run_kubectl(["delete", "--ignore-not-found", "deviceclass",
                                        companion.DRIVER])
        if self.started_cluster:
            self.step("stop the cluster", lambda: self.provider.down(self.cluster,
                                                                      self.console))


def execute(s: RunSettings, console: Console) -> int:
    """Every step, timed; cleanup on every way out; the verdict's exit status."""
    check(s)
    shutil.rmtree(s.results, ignore_errors=True)  # empty, or an earlier run's (check())
    s.results.mkdir(parents=True)
    run = Run(s, console)
    record: dict[str, Any] = {"inputs": _inputs(s), "timings": run.timings}
    status = 2
    try:
        with signals_as_exit():
            run.step("find or build helm and kubectl", run.tools_at_hand)
            run.step(f"render the {s.shipped.kind}", run.render)
            run.step(f"start cluster {s.cluster!r} ({s.nodes} nodes)", run.up)
            run.step("load the driver's images", run.load_images)
            run.step(f"install the {s.shipped.kind}", run.install)
            run.step("wait for the driver's pods and slices", run.wait)
            run.step(f"start a second driver on the first node ({companion.DRIVER})",
                     run.start_companion)
            status = run.step("certify", run.certify)
            record["verdict"] = "certified" if status == 0 else "not certified"
    except NotStarted as failure:
        status = 1
        record["verdict"] = NOT_STARTED
        _not_started(s.results, failure, console)
    except DeployError as error:  # the test bed's own failure: no verdict on the driver
        record["verdict"] = f"no verdict: {error}"
        console.print(f"[red]no verdict: {error}[/]")
    finally:
        with signals_ignored():
            run.cleanup()
            (s.results / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    return status


def _inputs(s: RunSettings) -> dict[str, Any]:
    shipped = s.shipped
    return {"images": [str(i) for i in s.images], "deployment": shipped.kind,
            "chart": str(shipped.chart or ""), "values": [str(v) for v in shipped.values],
            "set": list(shipped.sets), "kustomize": str(shipped.kustomize or ""),
            "manifests": [str(m) for m in shipped.manifests], "profile": str(s.profile),
            "hardwareProfiles": {str(k): v for k, v in s.hardware_profiles.items()},
            "nodes": s.nodes, "provider": "local", "command": shlex.join(sys.argv)}


def _not_started(results: Path, failure: NotStarted, console: Console) -> None:
    text = f"# {NOT_STARTED}\n\n{failure.reason}\n\n```\n{failure.diagnosis}\n```\n"
    (results / "not-started.md").write_text(text)
    (results / "report.json").write_text(json.dumps({
        "certified": False, "verdict": NOT_STARTED, "reason": failure.reason,
        "diagnosis": failure.diagnosis}, indent=2) + "\n")
    console.print(f"[red bold]{NOT_STARTED}[/]: {failure.reason}")
    console.print(failure.diagnosis[-4000:], markup=False, highlight=False)
    console.print(f"[dim]the whole diagnosis: {results / 'not-started.md'}[/]")

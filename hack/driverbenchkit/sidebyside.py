"""The reference driver beside two Go drivers, the same claims, the calls interleaved.

The drivers run as host processes on one node of a real cluster, each with folders of its
own and a driver name of its own:

- the reference driver over a gpu-sriov-8 fakehw tree (its GPUs are the claims' devices);
- upstream's DRA test driver (``k8s.io/kubernetes/test/e2e/dra/test-driver``, the build the
  cluster's companion driver comes from);
- sigs.k8s.io/dra-example-driver's kubelet plugin (gpu profile, 8 GPUs).

For each driver, ``CLAIMS`` ResourceClaims are allocated to its devices (written into the
claims' status, as the scheduler would). Each round then visits the drivers in turn, the
order rotating from round to round, and times over the DRA socket, as the kubelet calls it:
prepare, prepare again (already prepared) and unprepare of one claim, then the same with all
``CLAIMS`` claims in one call. Every driver reads the claims from the API server, so the API
server's latency is in every figure alike. CPU is the process's user+system time while its
own calls ran, per call; memory is VmRSS after the rounds and VmHWM (the peak).
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from conformancejob import exampledriver
from conformancejob.job import built_binary
from dra_reference.plugin.bench import percentile
from kubernetes import client

from driverbenchkit.cluster import Cluster, DriverProcess, reference_plugin, resource_api
from driverbenchkit.kubelet import Claim, DraClient, allocated_claims
from driverbenchkit.slices import PoolWatch
from fakehw import machine, profiles, runtime

CLAIMS = 8
PROFILE = "gpu-sriov-8"
REFERENCE = "reference"
STEPS = ("prepare", "prepare again", "unprepare")
# The Go drivers' client-side rate limits (5 and 50 requests/s by default) would be what is
# measured, not the drivers: every prepare reads its claims from the API server.
UNLIMITED = ("--kube-api-qps=1000", "--kube-api-burst=1000")


@dataclass
class Subject:
    """One driver under measurement, with its claims and what was measured of it."""

    name: str
    driver: str
    process: DriverProcess
    devices: list[str] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)  # "step/claims" -> ms
    cpu: dict[str, float] = field(default_factory=dict)  # "step/claims" -> CPU seconds
    memory: dict[str, int] = field(default_factory=dict)

    def record(self, key: str, milliseconds: float, cpu_seconds: float) -> None:
        self.samples.setdefault(key, []).append(milliseconds)
        self.cpu[key] = self.cpu.get(key, 0.0) + cpu_seconds


@contextlib.contextmanager
def subjects(cluster: Cluster, where: Path,
             api: client.ResourceV1Api) -> Iterator[list[Subject]]:
    """The three drivers running and serving, with the devices each can prepare."""
    work = Path(tempfile.mkdtemp(prefix="drabench-", dir=where))
    state = runtime.up(profiles.load(PROFILE), work / "hw", cluster.node, cameras=False)
    started: list[Subject] = []
    try:
        reference = Subject(REFERENCE, "reference.bench.fakehw.dev", reference_plugin(
            Path(state.root), work / "ref", cluster, "reference.bench.fakehw.dev"))
        test_driver = _test_driver(cluster, work / "test")
        example = _example_driver(cluster, work / "example")
        for subject in (reference, test_driver, example):
            subject.process.start()
            started.append(subject)
        for subject in started:
            subject.process.wait_for_socket()
        reference.devices = _published_gpus(api, reference.driver, cluster.node)[:CLAIMS]
        if len(reference.devices) < CLAIMS:
            raise RuntimeError(f"the reference driver published {len(reference.devices)} GPUs "
                               f"on {PROFILE}, fewer than {CLAIMS}")
        yield started
    finally:
        for subject in started:
            subject.process.stop()
        for subject in started:
            api.delete_collection_resource_slice(field_selector=f"spec.driver={subject.driver}")
        machine.down(Path(state.root))
        shutil.rmtree(work, ignore_errors=True)


def _test_driver(cluster: Cluster, work: Path) -> Subject:
    driver = "test.bench.fakehw.dev"
    binary = built_binary(sys.executable, "dra-test-driver", "dra-test-driver")
    plugins, registry, cdi = work / "plugins", work / "registry", work / "cdi"
    for folder in (plugins / driver, registry, cdi):
        folder.mkdir(parents=True, exist_ok=True)  # it does not make its socket's folder
    command = [binary, f"--kubeconfig={cluster.kubeconfig}", f"--drivername={driver}",
               "kubelet-plugin", f"--node-name={cluster.node}", f"--cdi-dir={cdi}",
               f"--plugin-registration-path={registry}", f"--datadir={plugins}",
               f"--num-devices={CLAIMS}", *UNLIMITED]
    process = DriverProcess("upstream's DRA test driver", command,
                            plugins / driver / "dra.sock", work / "driver.log")
    return Subject("upstream test driver", driver, process,
                   devices=[f"device-{n:02d}" for n in range(CLAIMS)])


def _example_driver(cluster: Cluster, work: Path) -> Subject:
    driver = "example.bench.fakehw.dev"
    plugins, registry, cdi = work / "plugins", work / "registry", work / "cdi"
    for folder in (plugins, registry, cdi):
        folder.mkdir(parents=True, exist_ok=True)
    command = [str(exampledriver.build(exampledriver.VERSION)),
               "--kubeconfig", str(cluster.kubeconfig), "--node-name", cluster.node,
               "--driver-name", driver, "--num-devices", str(CLAIMS),
               *UNLIMITED,
               "--cdi-root", str(cdi), "--kubelet-registrar-directory-path", str(registry),
               "--kubelet-plugins-directory-path", str(plugins)]
    process = DriverProcess("dra-example-driver", command, plugins / driver / "dra.sock",
                            work / "driver.log", env={"NODE_NAME": cluster.node})
    return Subject("dra-example-driver", driver, process,
                   devices=[f"gpu-{n}" for n in range(CLAIMS)])


def _published_gpus(api: client.ResourceV1Api, driver: str, node: str) -> list[str]:
    with PoolWatch(api, driver, node) as pool:
        pool.wait_for(lambda devices: any(d.startswith("gpu-") for d in devices), since=0)
        return sorted(d for d in pool.now() if d.startswith("gpu-"))


def measure(cluster: Cluster, where: Path, rounds: int,
            progress: Callable[[str], None]) -> list[Subject]:
    """``rounds`` interleaved rounds over the three drivers; what each one measured."""
    api = resource_api(cluster.kubeconfig)
    with subjects(cluster, where, api) as running, contextlib.ExitStack() as stack:
        clients: dict[str, DraClient] = {}
        for subject in running:
            subject.claims = stack.enter_context(allocated_claims(
                api, subject.driver, cluster.node, subject.devices,
                prefix=f"drabench-{subject.driver.split('.')[0]}"))
            channel = stack.enter_context(grpc.insecure_channel(f"unix:{subject.process.socket}"))
            clients[subject.name] = DraClient(channel)
        for subject in running:  # warm-up: connections, caches, first-call costs
            _round(subject, clients[subject.name], 0, record=False)
        for n in range(rounds):
            shift = n % len(running)
            for subject in running[shift:] + running[:shift]:
                _round(subject, clients[subject.name], n, record=True)
            if (n + 1) % max(1, rounds // 5) == 0:
                progress(f"round {n + 1} of {rounds}")
        for subject in running:
            subject.memory = subject.process.memory()
    return running


def _round(subject: Subject, dra: DraClient, n: int, *, record: bool) -> None:
    one = [subject.claims[n % len(subject.claims)]]
    for claims in (one, subject.claims):
        calls = (dra.prepare_all, dra.prepare_all, dra.unprepare_all)
        for step, call in zip(STEPS, calls, strict=True):
            cpu = subject.process.cpu_seconds()
            started = time.perf_counter()
            call(claims)
            elapsed = (time.perf_counter() - started) * 1000
            if record:
                subject.record(f"{step}/{len(claims)}", elapsed,
                               subject.process.cpu_seconds() - cpu)


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 0.5), "p90": percentile(values, 0.9),
            "p99": percentile(values, 0.99), "max": max(values),
            "mean": statistics.fmean(values)}

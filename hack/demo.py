#!/usr/bin/env python3
"""``make demo``: the edge node comes up, a pod claims its camera and a GPU, and the host
saves a frame from the camera with the claim's credentials.

    cluster   fakehw cluster up --name demo --nodes 1 --hardware-profile edge-node, on ports
              of its own (8443, 4379, 12250, 12257, 12259; pods in 10.247.0.0/16; the camera
              on 10554), so it runs beside the other local clusters
    drivers   DeviceClasses, the reference driver's kubelet plugin and camera controller as
              pods of an image built here (``--driver-deploy processes``: host processes),
              until their pools are published (the conformance job's steps)
    pod       one ResourceClaim for a camera and a GPU; the pod prints its FAKEHW_* variables
              and /dev/dri, then waits
    frame     ffmpeg grabs one frame over RTSP with the URL and credentials the pod saw:
              results/demo/frame.png, checked against the marks the camera paints
    revoke    pod and claim deleted; the camera must refuse the same credentials
    cleanup   pod, drivers, cluster, on every way out (^C included); ``--keep`` leaves them

Every option is also an environment variable, ``FAKEHW_DEMO_`` and the option in capitals.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import click
from conformancejob.demo import (
    GRAB_TIMEOUT,
    NAME,
    POD_TIMEOUT,
    REVOKE_TIMEOUT,
    DemoError,
    PodView,
    camera_for,
    ffmpeg_error,
    grab_command,
    manifests,
    parse_log,
    read_frame,
    refused,
    run_ffmpeg,
    wait_for,
    write_summary,
)
from conformancejob.job import (
    Job,
    JobError,
    console_echo,
    setup_steps,
    timed,
)
from conformancejob.pods import PodError
from conformancejob.settings import DEPLOYS, REPO, JobSettings, JobSettingsError
from conformancejob.supervisor import DriverError
from dra_conformance.testbed.signals import signals_as_exit, signals_ignored


class Demo:
    """The demo's own steps, after the job's setup steps."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.view = PodView()
        self.devices: list[dict[str, Any]] = []
        self.frame: dict[str, Any] = {}
        self.revoked: dict[str, Any] = {}
        self.pod_created = False

    def kubectl(self, *args: str, stdin: str | None = None) -> CompletedProcess[str]:
        return self.job.run([self.job.kubectl, f"--kubeconfig={self.job.kubeconfig}", *args],
                            capture_output=True, input=stdin)

    def start_pod(self) -> None:
        self.pod_created = True
        done = self.kubectl("apply", "-f", "-", stdin=json.dumps(manifests()))
        if done.returncode != 0:
            raise DemoError(f"creating the claim and the pod: {done.stderr.strip()}")

    def wait_for_pod(self) -> None:
        def printed() -> bool:
            phase = self.kubectl("get", "pod", NAME, "-o", "jsonpath={.status.phase}").stdout
            logs = self.kubectl("logs", NAME)
            self.view = parse_log(logs.stdout) if logs.returncode == 0 else PodView()
            if phase in ("Succeeded", "Failed"):
                raise DemoError(f"the pod ended ({phase}) before it was ready:\n{logs.stdout}")
            if self.view.ready:
                (self.job.s.results / "pod.log").write_text(logs.stdout)
            return self.view.ready

        try:
            wait_for(printed, POD_TIMEOUT, "the pod printing its devices")
        except DemoError as exc:
            events = self.kubectl("get", "events", "--field-selector",
                                  f"involvedObject.name={NAME}", "--no-headers", "-o",
                                  "custom-columns=REASON:.reason,MESSAGE:.message")
            raise DemoError(f"{exc}; the pod's events:\n{events.stdout.strip()}") from exc
        claim = json.loads(self.kubectl("get", "resourceclaim", NAME, "-o", "json").stdout)
        self.devices = claim["status"]["allocation"]["devices"]["results"]

    def credentials(self) -> tuple[str, str]:
        """The URL with the claim's credentials, and the transport, as the pod saw them."""
        env = self.view.env
        if not env.get("FAKEHW_CAMERA_USERNAME") or not env.get("FAKEHW_CAMERA_PASSWORD"):
            raise DemoError("the pod saw no camera credentials of its claim: "
                            f"{sorted(k for k in env if k.startswith('FAKEHW_CAMERA'))}")
        return env["FAKEHW_CAMERA_URL_WITH_CREDENTIALS"], env.get("FAKEHW_CAMERA_TRANSPORT", "")

    def grab_frame(self) -> None:
        url, transport = self.credentials()
        camera = camera_for(self.view.camera_url, self.job.cameras)
        path = self.job.s.results / "frame.png"
        done = run_ffmpeg(grab_command(url, transport, path))
        if done.returncode != 0 or not path.is_file():
            raise DemoError("ffmpeg read no frame with the claim's credentials: "
                            f"{done.stderr.strip()}")
        try:
            width, height, camera_id, number = read_frame(path)
        except ValueError as exc:
            raise DemoError(f"{path}: {exc}") from exc
        from fakehw.camera import camera_id as id_of  # noqa: PLC0415

        expected = (camera["width"], camera["height"], id_of(camera["name"]))
        if (width, height, camera_id) != expected:
            raise DemoError(f"{path} is {width}x{height} from camera id {camera_id:#010x}; "
                            f"camera {camera['name']} sends {expected[0]}x{expected[1]} "
                            f"with id {expected[2]:#010x}")
        self.frame = {"path": str(path), "width": width, "height": height,
                      "camera": camera["name"], "camera_id": camera_id,
                      "frame_number": number}

    def revoke(self) -> None:
        url, transport = self.credentials()
        self.delete_pod()
        answers: list[str] = []  # one per attempt: ffmpeg's error, or that it read a frame

        def is_refused() -> bool:
            done = run_ffmpeg(grab_command(url, transport, None))
            answers.append(ffmpeg_error(done.stderr, url) if done.returncode else "accepted")
            return done.returncode != 0 and refused(answers[-1])

        try:
            seconds = wait_for(is_refused, REVOKE_TIMEOUT, "the camera refusing the "
                               "deleted claim's credentials", interval=0.5)
        except DemoError as exc:
            raise DemoError(f"{exc}; ffmpeg's answers: {answers}") from exc
        self.revoked = {"refused": True, "seconds_after_delete": round(seconds, 1),
                        "attempts": answers, "ffmpeg": answers[-1]}

    def delete_pod(self) -> None:
        for kind in ("pod", "resourceclaim"):
            self.kubectl("delete", kind, NAME, "--ignore-not-found", "--wait=true",
                         "--timeout=60s")
        self.pod_created = False

    def cleanup(self) -> None:
        if self.job.s.keep:
            return
        if self.pod_created and self.job.kubectl:
            self.delete_pod()  # the driver revokes the credential before the cluster goes
        self.job.cleanup()

    def summary(self) -> dict[str, Any]:
        return {"devices": self.devices, "env": self.view.env,
                "dev_nodes": self.view.dev_nodes, "frame": self.frame,
                "revoked": self.revoked, "timings": self.job.timings}


def execute(demo: Demo, show: Callable[[Demo], None]) -> int:
    """The job's setup steps and the demo's, timed; cleanup on every way out."""
    job = demo.job
    steps = [*setup_steps(job),
             ("a pod claiming a camera and a GPU", demo.start_pod),
             (f"the pod printing what it got (at most {POD_TIMEOUT:.0f}s)", demo.wait_for_pod),
             (f"one frame with the claim's credentials (ffmpeg, at most {GRAB_TIMEOUT:.0f}s)",
              demo.grab_frame),
             (f"pod and claim deleted: credentials refused (at most {REVOKE_TIMEOUT:.0f}s)",
              demo.revoke)]
    done = False
    try:
        with signals_as_exit():
            for title, step in steps:
                timed(job, title, step)
            done = True
    finally:
        with signals_ignored():
            timed(job, "cleanup" + (" (skipped: --keep)" if job.s.keep else ""), demo.cleanup)
            if job.s.results.is_dir():
                write_summary(job.s.results / "summary.json", demo.summary())
            if done:
                show(demo)
            job.echo(f"total {sum(job.timings.values()):.0f}s; results in {job.s.results}")
            if job.s.keep:
                job.echo(f"cluster {job.s.name!r} and its drivers keep running (--keep): stop "
                         f"them with `hack/conformance.py down --name {job.s.name}`")
    return 0


def show_summary(demo: Demo) -> None:
    """What the pod saw and what the host did with it, on stdout."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console(highlight=False)
    devices = Table("request", "device", "pool", title=f"ResourceClaim {NAME}: allocated")
    for result in demo.devices:
        devices.add_row(result["request"], result["device"], result["pool"])
    env = Table("variable", title="the pod's FAKEHW_* environment")
    env.add_column("value", overflow="fold")
    for key, value in sorted(demo.view.env.items()):
        env.add_row(key, value)
    console.print(devices, env)
    console.print("[bold]the pod's /dev/dri[/]")
    for line in demo.view.dev_nodes:
        console.print(f"  {line}")
    f, r = demo.frame, demo.revoked
    console.print(f"[bold green]frame[/] {f['path']}: {f['width']}x{f['height']}, frame "
                  f"#{f['frame_number']} of camera {f['camera']} (id {f['camera_id']:#010x}, "
                  "read from the marks it paints)")
    accepted = sum(answer == "accepted" for answer in r["attempts"])
    console.print(f"[bold green]revoked[/]: {r['seconds_after_delete']}s after the pod and "
                  f"claim were deleted (attempt {len(r['attempts'])}, {accepted} accepted "
                  f"before), the camera refused the same credentials: {r['ffmpeg']}")


@click.command(context_settings={"auto_envvar_prefix": "FAKEHW_DEMO", "show_default": True})
@click.option("--name", default="demo", help="cluster name")
@click.option("--apiserver-port", type=int, default=8443)
@click.option("--etcd-port", type=int, default=4379)
@click.option("--kubelet-port", type=int, default=12250)
@click.option("--controller-manager-port", type=int, default=12257)
@click.option("--scheduler-port", type=int, default=12259)
@click.option("--pod-subnet", default="10.247.0.0/16")
@click.option("--camera-port", type=int, default=10554, help="the edge node's camera")
@click.option("--driver-deploy", type=click.Choice(DEPLOYS), default="pods",
              help="the driver as pods of an image built here, or as host processes")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=REPO / "results/demo")
@click.option("--keep", is_flag=True, help="leave the cluster and the drivers running")
@click.option("--verbose", "-v", is_flag=True, help="show commands; drivers log at debug")
def main(**options: Any) -> None:
    """A pod claims the edge node's camera and a GPU; the host saves a frame from the camera
    with the claim's credentials, which the camera refuses once the claim is deleted."""
    options["results"] = options["results"].resolve()
    try:
        settings = JobSettings(**options, nodes=1, hardware_profile="edge-node",
                               companion=False)
        sys.exit(execute(Demo(Job(settings, console_echo())), show_summary))
    except (JobSettingsError, JobError, DriverError, DemoError, PodError) as exc:
        raise click.ClickException(str(exc)) from exc


if __name__ == "__main__":
    main()

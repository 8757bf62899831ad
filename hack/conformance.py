#!/usr/bin/env python3
"""``make conformance``: certify the reference DRA driver on a local cluster of fakehw nodes.

The project's main job, in timed steps (the code is in ``hack/conformancejob/``):

    cluster   fakehw cluster up --name conformance --hardware-profile edge-node (a cluster
              already running under that name is reused, and left running at the end)
    classes   kubectl apply -f drivers/deploy/deviceclasses.yaml
    drivers   the driver's image, assembled from this checkout and loaded into every node
              (``fakehw cluster load-image``); its DaemonSet (a copy per node, over the
              node's fakehw tree, kubelet and CDI directories) and camera controller
              Deployment from drivers/deploy, as in conformancejob/pods.py. With
              ``--driver-deploy processes``: host processes instead, one per node

    slices    wait until every node's pool and every camera's pool is published
    certify   ``python -m dra_conformance certify --tier all`` with a copy of
              conformance/examples/reference-driver.yaml that says where this run put things
    cleanup   stop the drivers, then the cluster (``--keep`` leaves both running)

Results go to ``results/conformance/``: report.md/html/json, junit_01.xml, e2e.log (also in
Sonobuoy's layout), the run's driver profile and the drivers' logs. The exit status is
certify's: 0 only when every applicable MUST requirement passed.

Every option is also an environment variable, ``FAKEHW_CONFORMANCE_`` and the option in
capitals (``--apiserver-port`` is ``FAKEHW_CONFORMANCE_RUN_APISERVER_PORT``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from conformancejob.settings import (
    DEPLOYS,
    DEVICE_CLASSES,
    HYPOTHESIS_PROFILES,
    PROFILE,
    RESULTS,
    TIERS,
    JobSettings,
    JobSettingsError,
)


@click.group(context_settings={"auto_envvar_prefix": "FAKEHW_CONFORMANCE",
                               "show_default": True})
def main() -> None:
    """Certify the reference DRA driver on a local cluster (the `make conformance` job)."""


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--name", default="conformance", help="cluster name")
@click.option("--nodes", type=int, default=2)
@click.option("--hardware-profile", default="edge-node", help="fakehw profile of every node")
@click.option("--node-profile", "node_profiles", multiple=True, default=("1=gpu-sriov-8",),
              help="INDEX=PROFILE: node INDEX's own (SR-IOV GPUs show partitionable devices); "
                   "ignored beyond --nodes")
@click.option("--apiserver-port", type=int, default=6443)
@click.option("--etcd-port", type=int, default=2379)
@click.option("--kubelet-port", type=int, default=10250, help="node i uses +10*i")
@click.option("--controller-manager-port", type=int, default=10257)
@click.option("--scheduler-port", type=int, default=10259)
@click.option("--pod-subnet", default="10.244.0.0/16")
@click.option("--driver-deploy", type=click.Choice(DEPLOYS), default="pods",
              help="the driver as DaemonSet pods (its image built and loaded here) or as "
                   "host processes")
@click.option("--camera-port", type=int, default=None,
              help="move the profile's cameras to this port (+1, ...) [default: as profiled]")
@click.option("--driver-profile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=PROFILE)
@click.option("--device-classes", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=DEVICE_CLASSES)
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=RESULTS)
@click.option("--tier", type=click.Choice(TIERS), default="all")
@click.option("--seed", type=int, default=None, help="hypothesis seed [default: random]")
@click.option("--hypothesis-profile", type=click.Choice(HYPOTHESIS_PROFILES), default="ci")
@click.option("--keep", is_flag=True, help="leave the cluster and the drivers running")
@click.option("--verbose", "-v", is_flag=True, help="show commands; drivers log at debug")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run(pytest_args: tuple[str, ...], **options: Any) -> None:
    """Cluster, DeviceClasses, drivers, certify, cleanup; exits with certify's status.

    Arguments after `--` go to pytest, e.g. `-- -k slices`."""
    from conformancejob.job import Job, JobError, console_echo, execute  # noqa: PLC0415
    from conformancejob.pods import PodError  # noqa: PLC0415
    from conformancejob.supervisor import DriverError  # noqa: PLC0415

    options["results"] = options["results"].resolve()
    try:
        settings = JobSettings(**options, pytest_args=pytest_args)
        sys.exit(execute(Job(settings, console_echo())))
    except (JobSettingsError, JobError, DriverError, PodError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("restart-driver")
@click.option("--registry", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--node", required=True)
@click.option("--timeout", type=float, default=60.0)
def restart_driver(registry: Path, node: str, timeout: float) -> None:
    """Restart NODE's kubelet plugin (the driver profile's restartCommand): stop it and wait
    until the job's supervisor has started it again and it serves its registration socket."""
    from conformancejob.supervisor import DriverError, restart  # noqa: PLC0415

    try:
        old, new = restart(registry, node, timeout)
    except (DriverError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restarted the driver of {node}: pid {old} -> {new}")


@main.command("restart-pod")
@click.option("--kubectl", required=True)
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--node", required=True)
@click.option("--timeout", type=float, default=60.0)
@click.option("--logs", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="keep the old pod's log here")
@click.option("--rolling", is_flag=True,
              help="a rolling update of the node's DaemonSet instead of deleting its pod")
def restart_pod(*, kubectl: str, kubeconfig: Path, node: str, timeout: float,
                logs: Path | None, rolling: bool) -> None:
    """Restart NODE's kubelet plugin pod (the driver profile's restartCommand, and with
    --rolling its updateCommand, when the driver runs as pods); return once a new pod serves
    its registration socket and the old one is gone."""
    from conformancejob.pods import DriverPods, PodError  # noqa: PLC0415

    pods = DriverPods(kubectl, kubeconfig, logs)
    try:
        old, new = (pods.roll if rolling else pods.restart)(node, timeout)
    except PodError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'rolled' if rolling else 'restarted'} the driver of {node}: "
               f"pod {old} -> {new}")


@main.command("restart-soak")
@click.option("--name", default="conformance", help="cluster name (left by `run --keep`)")
@click.option("--count", type=int, default=20)
@click.option("--node-index", type=int, default=0)
@click.option("--timeout", type=float, default=60.0, help="seconds for each restart")
def restart_soak(name: str, count: int, node_index: int, timeout: float) -> None:
    """Delete node INDEX's kubelet plugin pod COUNT times in a row, as DRA-REG-006's restart
    command does, and check each time that the stopped pod removed both its sockets."""
    from conformancejob import soak  # noqa: PLC0415
    from conformancejob.job import built_binary, cluster_status, console_echo  # noqa: PLC0415
    from conformancejob.pods import DriverPods  # noqa: PLC0415
    from conformancejob.settings import nodes_from_status  # noqa: PLC0415

    settings = JobSettings(name=name)
    status = cluster_status(name, settings.python)
    if status is None or not status.get("running"):
        raise click.ClickException(f"no cluster {name!r} is running; start one with the driver "
                                   "as pods: hack/conformance.py run --keep")
    nodes = nodes_from_status(status)
    if not 0 <= node_index < len(nodes):
        raise click.ClickException(f"--node-index {node_index}: cluster {name!r} has "
                                   f"{len(nodes)} node(s)")
    kubectl = built_binary(settings.python, "kubernetes", "kubectl")
    pods = DriverPods(kubectl, Path(status["kubeconfig"]), cluster=name)
    leaks = soak.restart_soak(pods, nodes[node_index], count, timeout, console_echo())
    if leaks:
        raise click.ClickException("stopped plugin pods left sockets:\n" + "\n".join(leaks))
    click.echo(f"{count} restarts of {nodes[node_index].name}'s plugin pod: no socket left")


@main.command()
@click.option("--name", default="conformance", help="cluster name")
def down(name: str) -> None:
    """Stop what `run --keep` left running: the drivers, then the cluster."""
    import subprocess  # noqa: PLC0415

    from conformancejob.job import cluster_status, console_echo  # noqa: PLC0415
    from conformancejob.settings import registry_of  # noqa: PLC0415
    from conformancejob.supervisor import stop_recorded  # noqa: PLC0415

    settings = JobSettings(name=name)
    status = cluster_status(name, settings.python)
    if status is not None and status.get("kubeconfig"):
        stop_recorded(registry_of(status), console_echo())
    sys.exit(subprocess.run(settings.fakehw("cluster", "down", "--name", name),
                            check=False).returncode)


if __name__ == "__main__":
    main()

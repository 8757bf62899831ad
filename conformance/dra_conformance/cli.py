"""The command line: ``python -m dra_conformance certify ...`` (``fakehw certify`` runs it too).

Every option is also an environment variable with the DRA_ prefix (click's auto_envvar_prefix:
``--kubeconfig`` is DRA_CERTIFY_KUBECONFIG), so CI can configure a run without flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dra_conformance import certify as runner
from fakehw.cluster.settings import parse_hardware_profiles as _hardware

if TYPE_CHECKING:
    from rich.console import Console


@click.group(context_settings={"auto_envvar_prefix": "DRA", "show_default": True})
def main() -> None:
    """Conformance suite for Kubernetes DRA drivers."""


@main.command()
@click.option("--driver-profile", "profile", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), required=True, help="DriverProfile YAML of the driver")
@click.option("--kubeconfig", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="cluster to certify on (socket tier: the API server holding claims)")
@click.option("--registration-socket", type=click.Path(path_type=Path),
              help="registration socket or plugins_registry directory (socket tier)")
@click.option("--node", help="node whose kubelet the socket tier plays")
@click.option("--fakehw-root", type=click.Path(path_type=Path),
              help="fakehw hardware root the driver runs on (ground truth, faults)")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("conformance-results"), help="where results are written")
@click.option("--tier", type=click.Choice(["all", "socket", "cluster"]), default="all")
@click.option("--hypothesis-profile", type=click.Choice(["ci", "thorough", "dev"]),
              default="ci")
@click.option("--seed", type=int, help="hypothesis seed (default: a random one, reported)")
@click.option("--kubelet-restart-command",
              help="command restarting one node's kubelet, {node} standing for its name")
@click.option("--kubelet-root", type=click.Path(file_okay=False, path_type=Path),
              help="where this host sees the node's /var/lib/kubelet, if elsewhere")
@click.option("--companion-class",
              help="DeviceClass of another DRA driver on the node (several drivers per node)")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def certify(pytest_args: tuple[str, ...], **options: Any) -> None:
    """Run the suite against a driver and write junit_01.xml, e2e.log and the report.

    Exits 0 only when every applicable MUST requirement passed. Extra arguments after
    ``--`` go to pytest.
    """
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    console = Console(stderr=True)
    options["profile"] = options["profile"].resolve()
    options["report_dir"] = options["report_dir"].resolve()
    run = runner.Run(**options, extra=pytest_args)
    seed = run.seed
    run.report_dir.mkdir(parents=True, exist_ok=True)
    (run.report_dir / "pytest.ini").write_text(runner.INI)
    total = runner.count_tests(run, seed or 0)
    child, used_seed, output = runner.start(run)
    with Progress(TextColumn("[bold]certifying[/]"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=console) as progress:
        task = progress.add_task(f"seed {used_seed}", total=total or None)
        runner.wait(child, lambda: progress.update(
            task, completed=runner.finished_tests(run.report_dir)))
        progress.update(task, completed=runner.finished_tests(run.report_dir))
    report = runner.load_report(run.report_dir)
    if report is None:
        console.print(f"[red]the suite wrote no report; its output is in {output}[/]")
        raise SystemExit(2)
    _summary(console, report, run.report_dir)
    raise SystemExit(0 if report.get("certified") else 1)


@main.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="write the document here instead of printing it")
def catalogue(output: Path | None) -> None:
    """The requirement catalogue as Markdown: ID, level, source and tests of each."""
    from dra_conformance.catalogue import render  # noqa: PLC0415

    if output is None:
        click.echo(render(), nl=False)
    else:
        output.write_text(render())


@main.command()
@click.option("--image", "images", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the driver's image: an OCI layout or `docker save` tar (repeatable)")
@click.option("--chart", type=click.Path(exists=True, path_type=Path),
              help="the driver's Helm chart: a folder or .tgz")
@click.option("--values", "values", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a values file for the chart (repeatable)")
@click.option("--set", "sets", multiple=True, help="KEY=VALUE for the chart (repeatable)")
@click.option("--kustomize", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="a kustomize folder, instead of a chart")
@click.option("--manifests", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="plain manifests (files or folders), instead of a chart (repeatable)")
@click.option("--release", default="dra-driver", help="the Helm release's name")
@click.option("--namespace", default="dra-driver", help="where the chart is installed")
@click.option("--driver-profile", "profile", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--hardware-profile", "hardware", multiple=True, default=("edge-node",),
              help="[INDEX=]PROFILE: fakehw hardware of a node, every node without INDEX")
@click.option("--nodes", type=int, default=2)
@click.option("--cluster", default="certify", help="the cluster's name (a running one is used)")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results/certify"))
@click.option("--keep", is_flag=True, help="leave the driver and the cluster running")
@click.option("--start-timeout", type=float, default=300.0,
              help="seconds for the driver's pods to be Ready and publish slices")
@click.option("--tier", type=click.Choice(["all", "socket", "cluster"]), default="all")
@click.option("--hypothesis-profile", type=click.Choice(["ci", "thorough", "dev"]),
              default="ci")
@click.option("--seed", type=int)
def run(**o: Any) -> None:
    """Certify a driver from its image and deployment on a fakehw cluster it starts.

    Loads the images, installs the chart (or kustomize folder, or manifests) as it is,
    waits for the driver's pods and slices, runs `certify`, and removes everything on
    every way out. Exits 0 only when certified.
    """
    from rich.console import Console  # noqa: PLC0415

    from dra_conformance.errors import SettingsError  # noqa: PLC0415
    from dra_conformance.testbed.run import execute  # noqa: PLC0415
    from dra_conformance.testbed.settings import RunSettings, Shipped  # noqa: PLC0415

    shipped = Shipped(**{k: o.pop(k) for k in ("chart", "values", "sets", "kustomize",
                                                "manifests", "release", "namespace")})
    settings = RunSettings(
        shipped=shipped, profile=o.pop("profile").resolve(),
        results=o.pop("results").resolve(),
        hardware_profiles=_hardware(o.pop("hardware"), o["nodes"]), **o)
    try:
        raise SystemExit(execute(settings, Console(stderr=True)))
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


@main.command("restart-pods")
@click.option("--kubeconfig", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--namespace", required=True)
@click.option("--node", required=True)
@click.option("--rolling", is_flag=True, help="a rolling restart of the DaemonSets instead")
@click.option("--timeout", type=float, default=120.0)
def restart_pods(kubeconfig: Path, namespace: str, node: str, rolling: bool,
                 timeout: float) -> None:
    """Restart a driver's DaemonSet pods on NODE and wait until they are Ready again."""
    from kubernetes import config  # noqa: PLC0415

    from dra_conformance.testbed.pods import NotStarted, restart  # noqa: PLC0415

    api = config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    try:
        click.echo(restart(api, namespace, node, timeout, rolling))
    except NotStarted as failure:
        raise click.ClickException(str(failure)) from None


def _summary(console: Console, report: dict[str, Any], report_dir: Path) -> None:
    from rich.table import Table  # noqa: PLC0415

    table = Table("requirement", "level", "verdict", "evidence", title="DRA conformance")
    colours = {"passed": "green", "failed": "red", "not run": "yellow",
               "not applicable": "dim"}
    for item in report.get("requirements", []):
        verdict = str(item["verdict"])
        evidence = "; ".join(item["evidence"])[:100]
        table.add_row(item["id"], item["level"], f"[{colours[verdict]}]{verdict}[/]", evidence)
    console.print(table)
    console.print(f"counts: {report.get('counts')}")
    verdict = "[green]CERTIFIED[/]" if report.get("certified") else "[red]NOT CERTIFIED[/]"
    console.print(f"{verdict}: report in {report_dir / 'report.md'} and report.html")

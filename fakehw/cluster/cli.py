"""`fakehw cluster ...`: create, inspect and delete test clusters from the command line.

Every option also reads an environment variable named in its help (FAKEHW_NODES,
FAKEHW_FEATURE_GATES, ...), so CI can configure a run without editing commands.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from fakehw import profiles
from fakehw.cluster import providers
from fakehw.cluster.binaries import ensure_binaries
from fakehw.cluster.errors import ClusterConfigError
from fakehw.cluster.settings import (
    DEFAULT_CNI_BIN_DIR,
    DEFAULT_RUNC,
    ClusterSettings,
    default_state_dir,
    parse_feature_gates,
    parse_hardware_profiles,
    parse_runtime_config,
)
from fakehw.errors import ClusterError, FakeHWError

F = TypeVar("F", bound=Callable[..., Any])


def _console() -> Console:
    return Console(stderr=True)


def common_options(function: F) -> F:
    """Options every subcommand shares: which cluster, which provider, where its state is."""
    decorators = [
        click.option("--name", default="fakehw", show_default=True, envvar="FAKEHW_CLUSTER_NAME",
                     help="Cluster name [env FAKEHW_CLUSTER_NAME]."),
        click.option("--provider", type=click.Choice(sorted(providers.PROVIDERS)), default=None,
                     envvar="FAKEHW_PROVIDER",
                     help="local or kind; chosen automatically if omitted [env FAKEHW_PROVIDER]."),
        click.option("--state-dir", type=click.Path(path_type=Path), default=None,
                     envvar="FAKEHW_STATE_DIR",
                     help="Where clusters keep their files [env FAKEHW_STATE_DIR]."),
        click.option("--verbose", "-v", is_flag=True, envvar="FAKEHW_VERBOSE",
                     help="Say more [env FAKEHW_VERBOSE]."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def reports_errors(function: F) -> F:
    """Turn ClusterError into a one-paragraph message and exit code 1, not a traceback."""
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ClusterError as error:
            _console().print(f"[red]error:[/] {error}", markup=True, highlight=False)
            sys.exit(1)
    return wrapper  # type: ignore[return-value]


def _hardware_roots(values: tuple[str, ...]) -> dict[int, Path]:
    roots: dict[int, Path] = {}
    for position, value in enumerate(values):
        index, sep, path = value.partition("=")
        if sep and index.isdigit():
            roots[int(index)] = Path(path)
        else:
            roots[position] = Path(value)
    return roots


def _hardware_profiles(values: tuple[str, ...], nodes: int) -> dict[int, str]:
    """``edge-node`` for every node, or ``1=numa-mixed`` for one; checked before anything."""
    for value in values:
        index, sep, name = value.partition("=")
        try:
            profiles.load(name if sep and index.isdigit() else value)
        except FakeHWError as error:
            raise ClusterConfigError(f"--hardware-profile {value}: {error}") from None
    return parse_hardware_profiles(values, nodes)


def _settings(name: str, state_dir: Path | None, verbose: bool, **extra: Any) -> ClusterSettings:
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    return ClusterSettings(name=name, state_dir=state_dir or default_state_dir(),
                           verbose=verbose, **extra)


def _provider(name: str | None, console: Console) -> providers.ClusterProvider:
    provider, reason = providers.choose(name)
    console.print(f"Using the {provider.name!r} cluster provider ({reason})")
    return provider


@click.group("cluster")
def cluster() -> None:
    """Real Kubernetes 1.37 clusters with DRA, for testing drivers."""


@cluster.command()
@common_options
@click.option("--nodes", type=int, default=1, show_default=True, envvar="FAKEHW_NODES",
              help="Number of nodes (the first is the control plane) [env FAKEHW_NODES].")
@click.option("--feature-gates", default="", envvar="FAKEHW_FEATURE_GATES",
              help="Extra gates for every component, e.g. DRAListTypeAttributes=true "
                   "[env FAKEHW_FEATURE_GATES].")
@click.option("--runtime-config", default="", envvar="FAKEHW_RUNTIME_CONFIG",
              help="Extra API versions for kube-apiserver [env FAKEHW_RUNTIME_CONFIG].")
@click.option("--apiserver-port", type=int, default=6443, show_default=True,
              envvar="FAKEHW_APISERVER_PORT", help="[env FAKEHW_APISERVER_PORT]")
@click.option("--etcd-port", type=int, default=2379, show_default=True,
              envvar="FAKEHW_ETCD_PORT", help="etcd client port; peer is +1 [env FAKEHW_ETCD_PORT]")
@click.option("--kubelet-port", type=int, default=10250, show_default=True,
              envvar="FAKEHW_KUBELET_PORT",
              help="First kubelet's port; node i uses +10*i [env FAKEHW_KUBELET_PORT]")
@click.option("--controller-manager-port", type=int, default=10257, show_default=True,
              envvar="FAKEHW_CONTROLLER_MANAGER_PORT",
              help="[env FAKEHW_CONTROLLER_MANAGER_PORT]")
@click.option("--scheduler-port", type=int, default=10259, show_default=True,
              envvar="FAKEHW_SCHEDULER_PORT", help="[env FAKEHW_SCHEDULER_PORT]")
@click.option("--pod-subnet", default="10.244.0.0/16", show_default=True,
              envvar="FAKEHW_POD_SUBNET",
              help="Node i's bridge and pods take its i-th /24; give clusters that run side by "
                   "side different subnets [env FAKEHW_POD_SUBNET].")
@click.option("--hardware-root", multiple=True, envvar="FAKEHW_HARDWARE_ROOT",
              help="[INDEX=]PATH of a node's fake-hardware tree, given to its kubelet and "
                   "containerd as FAKEHW_HARDWARE_ROOT; repeatable [env FAKEHW_HARDWARE_ROOT].")
@click.option("--hardware-profile", multiple=True, envvar="FAKEHW_HARDWARE_PROFILE",
              help="[INDEX=]PROFILE: fakehw materializes this hardware profile for the node "
                   "(every node when no INDEX); its cameras run once per cluster; repeatable "
                   "[env FAKEHW_HARDWARE_PROFILE].")
@click.option("--runc", type=click.Path(path_type=Path), default=DEFAULT_RUNC,
              show_default=True, envvar="FAKEHW_RUNC",
              help="The runc every node's containerd runs; never looked up on PATH "
                   "[env FAKEHW_RUNC].")
@click.option("--cni-bin-dir", type=click.Path(path_type=Path), default=DEFAULT_CNI_BIN_DIR,
              show_default=True, envvar="FAKEHW_CNI_BIN_DIR",
              help="Where the bridge, host-local and loopback CNI plugins are; the only "
                   "folder containerd looks in [env FAKEHW_CNI_BIN_DIR].")
@click.option("--services/--no-services", default=True, show_default=True,
              envvar="FAKEHW_SERVICES",
              help="kube-proxy and CoreDNS, so pods reach the API server through the "
                   "`kubernetes` Service as a chart expects; one cluster per host may have them "
                   "[env FAKEHW_SERVICES].")
@reports_errors
def up(*, name: str, provider: str | None, state_dir: Path | None, verbose: bool, nodes: int,
       feature_gates: str, runtime_config: str, apiserver_port: int, etcd_port: int,
       kubelet_port: int, controller_manager_port: int, scheduler_port: int,
       pod_subnet: str, hardware_root: tuple[str, ...],
       hardware_profile: tuple[str, ...], runc: Path, cni_bin_dir: Path,
       services: bool) -> None:
    """Create a cluster, or report the one already running under that name."""
    console = _console()
    settings = _settings(
        name, state_dir, verbose, nodes=nodes,
        feature_gates=parse_feature_gates(feature_gates),
        runtime_config=parse_runtime_config(runtime_config),
        apiserver_port=apiserver_port, etcd_port=etcd_port, kubelet_port=kubelet_port,
        controller_manager_port=controller_manager_port, scheduler_port=scheduler_port,
        pod_subnet=pod_subnet,
        hardware_roots=_hardware_roots(hardware_root),
        hardware_profiles=_hardware_profiles(hardware_profile, nodes),
        runc=runc, cni_bin_dir=cni_bin_dir, services=services,
    )
    status = _provider(provider, console).up(settings, console)
    click.echo(str(status.kubeconfig))


@cluster.command()
@common_options
@reports_errors
def down(*, name: str, provider: str | None, state_dir: Path | None, verbose: bool) -> None:
    """Delete the cluster and everything it created (a second down is harmless)."""
    console = _console()
    _provider(provider, console).down(_settings(name, state_dir, verbose), console)


@cluster.command()
@common_options
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable: kubeconfig, nodes with their kubelet plugin dirs, processes.")
@reports_errors
def status(*, name: str, provider: str | None, state_dir: Path | None, verbose: bool,
           as_json: bool) -> None:
    """Show whether the cluster runs, its nodes and its processes (exit 3 if not running)."""
    console = _console()
    result = _provider(provider, console).status(_settings(name, state_dir, verbose))
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        sys.exit(0 if result.running else 3)
    click.echo(f"cluster {result.name} ({result.provider}): "
               f"{'running' if result.running else 'not running'} - {result.detail}")
    for node in result.nodes:
        click.echo(f"  node {node.name} {node.role} {node.address} kubelet-dir={node.kubelet_dir}"
                   + (f" hardware-root={node.hardware_root}" if node.hardware_root else "")
                   + (f" cdi-dir={node.cdi_dir}" if node.cdi_dir else ""))
    for component, alive in sorted(result.components.items()):
        click.echo(f"  {component}: {'up' if alive else 'DOWN'}")
    if not result.running:
        sys.exit(3)


@cluster.command()
@common_options
@reports_errors
def kubeconfig(*, name: str, provider: str | None, state_dir: Path | None, verbose: bool) -> None:
    """Print the path of the admin kubeconfig (use: export KUBECONFIG=$(...))."""
    console = _console()
    click.echo(str(_provider(provider, console).kubeconfig(_settings(name, state_dir, verbose))))


@cluster.command()
@common_options
@click.argument("component", required=False)
@click.option("--lines", "-n", type=int, default=0, help="Only the last N lines of each log.")
@reports_errors
def logs(*, name: str, provider: str | None, state_dir: Path | None, verbose: bool,
         component: str | None, lines: int) -> None:
    """Print component logs (all, or one such as kubelet-0, kube-apiserver, containerd-1)."""
    console = _console()
    files = _provider(provider, console).logs(_settings(name, state_dir, verbose), component)
    if not files:
        raise ClusterConfigError(f"no log named {component!r}" if component else "no logs yet")
    for label, path in files.items():
        text = path.read_text(errors="replace").splitlines()
        click.echo(f"==> {label} ({path}) <==")
        click.echo("\n".join(text[-lines:] if lines else text))


@cluster.command("restart-kubelet")
@common_options
@click.argument("node")
@reports_errors
def restart_kubelet(*, name: str, provider: str | None, state_dir: Path | None, verbose: bool,
                    node: str) -> None:
    """Restart NODE's kubelet (its pods keep running); return once it is healthy again."""
    console = _console()
    _provider(provider, console).restart_kubelet(_settings(name, state_dir, verbose), node,
                                                 console)


@cluster.command("load-image")
@common_options
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@reports_errors
def load_image(*, name: str, provider: str | None, state_dir: Path | None, verbose: bool,
               archive: Path) -> None:
    """Load an image ARCHIVE (OCI layout or `docker save` tar) into every node, no registry."""
    console = _console()
    _provider(provider, console).load_image(_settings(name, state_dir, verbose), archive,
                                            console)


@cluster.command()
@click.option("--force", is_flag=True, help="Rebuild even if the cache is valid.")
@click.option("--component", "components", multiple=True,
              type=click.Choice(["kubernetes", "etcd", "containerd", "pause", "dra-test-driver",
                                 "fakehw-cdi-plugin", "kube-proxy", "coredns", "helm"]),
              help="Only these components (repeatable).")
@reports_errors
def build(*, force: bool, components: tuple[str, ...]) -> None:
    """Build (or find in the cache) the binaries of a local cluster, and print their paths."""
    found = ensure_binaries(console=_console(), force=force, components=components or None)
    for binary, path in sorted(found.paths.items()):
        click.echo(f"{binary}\t{path}")


def main() -> None:
    """Entry point for `python -m fakehw.cluster.cli` until the main CLI attaches the group."""
    cluster(auto_envvar_prefix="FAKEHW")


if __name__ == "__main__":
    main()

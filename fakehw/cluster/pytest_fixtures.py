"""pytest fixtures that give a test session one real cluster.

`fakehw_cluster` (session scope) reuses a cluster when told where one is (`--fakehw-kubeconfig`
or FAKEHW_KUBECONFIG) or when one of the same name is already running, and otherwise starts
one and deletes it at the end of the session. It never deletes a cluster it did not start.

Options (each also an environment variable):

    --fakehw-kubeconfig PATH   use this cluster as is             FAKEHW_KUBECONFIG
    --fakehw-cluster-name N    name of the cluster to start/reuse FAKEHW_CLUSTER_NAME
    --fakehw-provider P        local or kind                      FAKEHW_PROVIDER
    --fakehw-nodes N           nodes of a started cluster         FAKEHW_NODES
    --fakehw-feature-gates G   extra gates of a started cluster   FAKEHW_FEATURE_GATES
    --fakehw-keep-cluster      leave a started cluster running    FAKEHW_KEEP_CLUSTER

Load it with `pytest_plugins = ["fakehw.cluster.pytest_fixtures"]` in a root conftest or
through the project's pytest11 entry point. Heavy imports happen inside the fixtures.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fakehw.cluster.kubectl import Kubectl
    from fakehw.cluster.providers.base import ClusterProvider, NodeInfo
    from fakehw.cluster.settings import ClusterSettings

OPTIONS = {
    "--fakehw-kubeconfig": ("FAKEHW_KUBECONFIG", "kubeconfig of an existing cluster to use"),
    "--fakehw-cluster-name": ("FAKEHW_CLUSTER_NAME", "name of the cluster to start or reuse"),
    "--fakehw-provider": ("FAKEHW_PROVIDER", "cluster provider (local or kind)"),
    "--fakehw-nodes": ("FAKEHW_NODES", "number of nodes of a started cluster"),
    "--fakehw-feature-gates": ("FAKEHW_FEATURE_GATES", "feature gates of a started cluster"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the options in their own group, all prefixed with --fakehw-.

    Safe to run twice (entry-point plugin and a conftest re-exporting this hook).
    """
    group = parser.getgroup("fakehw-cluster", "fakehw test cluster")
    with contextlib.suppress(ValueError):
        for flag, (env, text) in OPTIONS.items():
            group.addoption(flag, default=None, help=f"{text} [env {env}]")
        group.addoption("--fakehw-keep-cluster", action="store_true", default=False,
                        help="leave a cluster this session started running "
                             "[env FAKEHW_KEEP_CLUSTER]")


def option(config: pytest.Config, flag: str) -> str | None:
    """An option's value, else its environment variable (works when the option is unknown)."""
    value = config.getoption(flag.lstrip("-").replace("-", "_"), default=None)
    if value is None:
        value = os.environ.get(OPTIONS[flag][0]) or None
    return None if value is None else str(value)


@dataclass(frozen=True)
class SessionCluster:
    """The cluster a test session uses."""

    kubeconfig: Path
    kubectl: Kubectl
    started_here: bool
    settings: ClusterSettings | None = None
    provider: ClusterProvider | None = None
    nodes: tuple[NodeInfo, ...] = ()


def settings_from(config: pytest.Config) -> ClusterSettings:
    """ClusterSettings built from the session's options and environment."""
    from fakehw.cluster.settings import ClusterSettings, parse_feature_gates  # noqa: PLC0415

    return ClusterSettings(
        name=option(config, "--fakehw-cluster-name") or "fakehw",
        nodes=int(option(config, "--fakehw-nodes") or 1),
        feature_gates=parse_feature_gates(option(config, "--fakehw-feature-gates") or ""),
    )


def _kubectl_for(kubeconfig: Path) -> Kubectl:
    from fakehw.cluster.binaries import ensure_binaries  # noqa: PLC0415
    from fakehw.cluster.kubectl import Kubectl  # noqa: PLC0415

    return Kubectl(ensure_binaries(components={"kubernetes"})["kubectl"], kubeconfig)


@pytest.fixture(scope="session")
def fakehw_cluster_settings(pytestconfig: pytest.Config) -> ClusterSettings:
    """Settings of a cluster the session starts; override this fixture to change them."""
    return settings_from(pytestconfig)


@pytest.fixture(scope="session")
def fakehw_cluster(
    pytestconfig: pytest.Config, fakehw_cluster_settings: ClusterSettings
) -> Iterator[SessionCluster]:
    """A running cluster for the whole session; started (and later deleted) only if needed."""
    from rich.console import Console  # noqa: PLC0415

    from fakehw.cluster import providers  # noqa: PLC0415

    given = option(pytestconfig, "--fakehw-kubeconfig")
    if given:
        path = Path(given)
        yield SessionCluster(path, _kubectl_for(path), started_here=False)
        return
    console = Console(stderr=True)
    settings = fakehw_cluster_settings
    provider, _ = providers.choose(option(pytestconfig, "--fakehw-provider"))
    already = provider.status(settings).running
    status = provider.up(settings, console)
    if status.kubeconfig is None:
        pytest.fail(f"provider {provider.name} started no reachable cluster: {status.detail}")
    cluster = SessionCluster(status.kubeconfig, _kubectl_for(status.kubeconfig),
                             started_here=not already, settings=settings, provider=provider,
                             nodes=status.nodes)
    yield cluster
    keep = pytestconfig.getoption("fakehw_keep_cluster", default=False) or os.environ.get(
        "FAKEHW_KEEP_CLUSTER")
    if cluster.started_here and not keep:
        provider.down(settings, console)


@pytest.fixture(scope="session")
def fakehw_kubectl(fakehw_cluster: SessionCluster) -> Kubectl:
    """kubectl bound to the session's cluster."""
    return fakehw_cluster.kubectl

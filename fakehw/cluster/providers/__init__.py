"""Cluster providers, picked by name from a registry (like dra-example-driver's profiles).

    local   control plane, containerd and kubelets as host processes (root, Linux, Go to build)
    kind    kind node containers (needs docker or podman and a kindest/node image)

`choose` picks a provider by name, or the first available one when none is named.
"""

from __future__ import annotations

from collections.abc import Callable

from fakehw.cluster.errors import ClusterError, UnknownProviderError
from fakehw.cluster.providers.base import ClusterProvider, ClusterStatus, NodeInfo

Factory = Callable[[], ClusterProvider]


def _local() -> ClusterProvider:
    from fakehw.cluster.providers.local import LocalProvider  # noqa: PLC0415

    return LocalProvider()


def _kind() -> ClusterProvider:
    from fakehw.cluster.providers.kind import KindProvider  # noqa: PLC0415

    return KindProvider()


PROVIDERS: dict[str, Factory] = {"local": _local, "kind": _kind}
AUTO_ORDER = ("local", "kind")


def get_provider(name: str) -> ClusterProvider:
    """The provider registered under `name`."""
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise UnknownProviderError(
            f"no cluster provider named {name!r}; choose one of {', '.join(sorted(PROVIDERS))}"
        ) from None
    return factory()


def choose(name: str | None) -> tuple[ClusterProvider, str]:
    """The named provider, or the first available one; returns it with the reason for it."""
    if name:
        return get_provider(name), f"provider {name!r} was asked for"
    reasons = []
    for candidate in AUTO_ORDER:
        provider = get_provider(candidate)
        problem = provider.available()
        if problem is None:
            return provider, f"chose provider {candidate!r}: it is available on this host"
        reasons.append(f"{candidate}: {problem}")
    raise ClusterError("no cluster provider can run here: " + "; ".join(reasons))


__all__ = [
    "PROVIDERS",
    "ClusterProvider",
    "ClusterStatus",
    "NodeInfo",
    "choose",
    "get_provider",
]

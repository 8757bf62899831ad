"""Errors of cluster management, all under `fakehw.errors.ClusterError`.

Each message says what failed, with which input, and what to do about it, because the person
reading it is usually looking at a CI log with no cluster left to inspect.

    ClusterError
     +-- ClusterConfigError (ValueError)   bad settings: a feature gate, a name, a node count
     +-- UnknownProviderError (ValueError) no provider of that name is registered
     +-- ToolchainError                    Go (or another build tool) is missing or too old
     +-- DiskSpaceError                    not enough free disk for a build or a cluster
     +-- BuildError                        a build command failed; carries its last output lines
     +-- HostError                         the host cannot run a cluster (not root, no runc, ...)
     +-- PortInUseError                    a port the cluster needs is taken; names the port
     +-- ComponentError                    a component exited or never became ready; last log lines
     +-- ClusterNotFoundError              no cluster of that name is running
"""

from __future__ import annotations

from fakehw.errors import ClusterError

__all__ = [
    "BuildError",
    "ClusterConfigError",
    "ClusterError",
    "ClusterNotFoundError",
    "ComponentError",
    "DiskSpaceError",
    "HostError",
    "PortInUseError",
    "ToolchainError",
    "UnknownProviderError",
]


class ClusterConfigError(ClusterError, ValueError):
    """A cluster setting is invalid (feature gate, name, node count, port)."""


class UnknownProviderError(ClusterError, ValueError):
    """No cluster provider is registered under the requested name."""


class ToolchainError(ClusterError):
    """A build tool is missing or too old to build the pinned components."""


class DiskSpaceError(ClusterError):
    """Not enough free disk space where the build or the cluster would write."""


class BuildError(ClusterError):
    """A build command failed. The message ends with the last lines it printed."""


class HostError(ClusterError):
    """The host lacks something a cluster needs (root, a tool, a kernel feature)."""


class PortInUseError(ClusterError):
    """A TCP port the cluster needs is already taken by another process."""

    def __init__(self, port: int, purpose: str) -> None:
        self.port = port
        self.purpose = purpose
        super().__init__(
            f"port {port} on 127.0.0.1 ({purpose}) is already in use; stop whatever listens "
            f"there (`ss -ltnp 'sport = :{port}'`) or choose another port for the cluster"
        )


class ComponentError(ClusterError):
    """A component exited early or never became ready. The message ends with its last log lines."""

    def __init__(self, component: str, problem: str, log_tail: str = "", hint: str = "") -> None:
        self.component = component
        self.log_tail = log_tail
        message = f"{component}: {problem}"
        if log_tail:
            message += f"\n--- last lines of the {component} log ---\n{log_tail}"
        if hint:
            message += f"\n{hint}"
        super().__init__(message)


class ClusterNotFoundError(ClusterError):
    """No cluster of the given name is running under the state directory."""

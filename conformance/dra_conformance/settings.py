"""The suite's settings: built once from pytest options, each with an environment fallback.

Options are read when the session starts, never at import time, so a test harness can set the
environment and run pytest in-process. Every flag is prefixed ``--dra-`` (a bare ``--driver``
collides with other plugins) and its variable is the flag in capitals (``DRA_DRIVER``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

# flag -> (environment variable, help)
OPTIONS: dict[str, tuple[str, str]] = {
    "--dra-driver": ("DRA_DRIVER", "name of the DRA driver under test (default: the profile's)"),
    "--dra-profile": ("DRA_PROFILE", "driver profile file (conformance.fakehw.dev/v1alpha1)"),
    "--dra-kubeconfig": ("DRA_KUBECONFIG", "kubeconfig of the cluster (socket tier: the API "
                         "server holding claims; cluster tier: where pods run)"),
    "--dra-registration-socket": ("DRA_REGISTRATION_SOCKET", "the driver's registration socket, "
                                  "or the plugins_registry directory to find it in"),
    "--dra-plugin-socket": ("DRA_PLUGIN_SOCKET", "the driver's DRA socket (default: the "
                            "endpoint GetInfo advertises)"),
    "--dra-node": ("DRA_NODE", "node the sockets belong to (default: the profile's first node)"),
    "--dra-fakehw-root": ("DRA_FAKEHW_ROOT", "fakehw hardware root the driver runs on, for "
                          "ground truth and fault injection"),
    "--dra-report-dir": ("DRA_REPORT_DIR", "write junit_01.xml, e2e.log and the certification "
                         "report here"),
    "--dra-hypothesis-profile": ("DRA_HYPOTHESIS_PROFILE", "hypothesis settings profile: "
                                 "ci, thorough or dev"),
    "--dra-kubelet-restart-command": ("DRA_KUBELET_RESTART_COMMAND", "command restarting one "
                                      "node's kubelet, {node} standing for the node's name "
                                      "(e.g. 'fakehw cluster restart-kubelet {node}', or "
                                      "'docker exec {node} systemctl restart kubelet' on kind)"),
    "--dra-companion-class": ("DRA_COMPANION_CLASS", "DeviceClass of another DRA driver "
                              "running on the node under test, for the several-drivers "
                              "requirement"),
    "--dra-kubelet-root": ("DRA_KUBELET_ROOT", "where this host sees the node's "
                           "/var/lib/kubelet, when it is elsewhere (a node of a fakehw "
                           "cluster): socket paths a driver announces below /var/lib/kubelet "
                           "are dialed there, as that node's kubelet would"),
}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("dra-conformance", "DRA driver conformance")
    for flag, (env, text) in OPTIONS.items():
        group.addoption(flag, default=None, help=f"{text} [env {env}]")


def option(config: pytest.Config, flag: str) -> str | None:
    """The option's value, else its environment variable, else None."""
    value = config.getoption(flag.lstrip("-").replace("-", "_"), default=None)
    if value is None:
        value = os.environ.get(OPTIONS[flag][0]) or None
    return None if value is None else str(value)


def _path(config: pytest.Config, flag: str) -> Path | None:
    value = option(config, flag)
    return None if value is None else Path(value).expanduser()


@dataclass(frozen=True)
class SuiteSettings:
    driver: str | None = None
    profile: Path | None = None
    kubeconfig: Path | None = None
    registration_socket: Path | None = None
    plugin_socket: Path | None = None
    node: str | None = None
    fakehw_root: Path | None = None
    report_dir: Path | None = None
    hypothesis_profile: str | None = None
    kubelet_restart_command: str | None = None
    companion_class: str | None = None
    kubelet_root: Path | None = None

    @property
    def active(self) -> bool:
        """Whether the suite was asked to judge anything (the plugin may just be installed)."""
        return any(value is not None for value in (self.driver, self.profile, self.report_dir,
                                                   self.registration_socket))

    @classmethod
    def from_config(cls, config: pytest.Config) -> SuiteSettings:
        return cls(driver=option(config, "--dra-driver"),
                   profile=_path(config, "--dra-profile"),
                   kubeconfig=_path(config, "--dra-kubeconfig"),
                   registration_socket=_path(config, "--dra-registration-socket"),
                   plugin_socket=_path(config, "--dra-plugin-socket"),
                   node=option(config, "--dra-node"),
                   fakehw_root=_path(config, "--dra-fakehw-root"),
                   report_dir=_path(config, "--dra-report-dir"),
                   hypothesis_profile=option(config, "--dra-hypothesis-profile"),
                   kubelet_restart_command=option(config, "--dra-kubelet-restart-command"),
                   companion_class=option(config, "--dra-companion-class"),
                   kubelet_root=_path(config, "--dra-kubelet-root"))

"""Known failure messages of the components, and what to do about each.

A component's last log lines say what went wrong in its own words; a hint adds the fix in
this project's terms (which setting, which package), so the person reading a CI log does not
have to know Kubernetes internals.
"""

from __future__ import annotations

import re

HINTS: tuple[tuple[str, str], ...] = (
    (r"configured to not run on a host using cgroup v1",
     "this host uses cgroup v1 and the kubelet refuses it: its KubeletConfiguration needs "
     "`failCgroupV1: false` (set by fakehw; a hand-made config or an older fakehw lacks it)"),
    (r"unrecognized feature gate",
     "a --feature-gates name is unknown to this Kubernetes version; check the spelling and "
     "`kube-apiserver -h` for the list"),
    (r"address already in use",
     "a port is taken by another process; choose other ports (--apiserver-port, --etcd-port, "
     "--kubelet-port) or stop the other cluster"),
    (r"oom_score_adj: Permission denied",
     "the host lacks CAP_SYS_RESOURCE; containerd must run with restrict_oom_score_adj = true"),
    (r"unknown service runtime\.v1\.RuntimeService",
     "containerd's CRI plugin did not load; see the containerd log for 'failed to load plugin'"),
    (r"no such file or directory.*(runc|bridge|host-local)",
     "a runtime tool is missing: `apt-get install runc containernetworking-plugins`"),
)


def explain(log_tail: str) -> str:
    """The hints whose pattern occurs in `log_tail`, one per line ("" if none)."""
    return "\n".join(f"hint: {hint}" for pattern, hint in HINTS
                     if re.search(pattern, log_tail))

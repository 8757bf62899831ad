"""`down` for the local provider: undo everything the state file lists, in reverse order.

Order matters: kubelets first (so nothing restarts pods), then the containers and their shims,
then containerd, then the control plane; only then are mounts released, bridges deleted and
cgroup roots removed. Every step tolerates things already gone, so a second `down`, or a
`down` after a half-finished `up`, is harmless.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from fakehw import machine
from fakehw.cluster.local import host, leftovers, services
from fakehw.cluster.local.processes import ProcessRecord, kill_pids, pids_of_executable, stop
from fakehw.cluster.local.state import ClusterState
from fakehw.cluster.steps import Step

STOP_ORDER = ("kubelet", "containerd", "kube-proxy", "coredns", "kube-scheduler",
              "kube-controller-manager", "kube-apiserver", "etcd")


def _order(record: ProcessRecord) -> int:
    prefix = next((p for p in STOP_ORDER if record.name.startswith(p)), None)
    return STOP_ORDER.index(prefix) if prefix else len(STOP_ORDER)


def _by_prefix(state: ClusterState, prefix: str) -> list[ProcessRecord]:
    return [p for p in state.processes if p.name.startswith(prefix)]


def stop_processes(records: Sequence[ProcessRecord]) -> None:
    """Stop each recorded process (SIGTERM, then SIGKILL after a grace period)."""
    for record in sorted(records, key=_order):
        stop(record, timeout=5 if record.name.startswith("kubelet") else 10)


def remove_containers(state: ClusterState) -> None:
    """Kill every container task through its containerd, then any shim left of ours."""
    for record in _by_prefix(state, "containerd-"):
        ctr = Path(record.argv[0]).with_name("ctr")
        config = next((a.split("=", 1)[1] for a in record.argv if a.startswith("--config=")), "")
        socket = Path(config).with_name("containerd.sock")
        if not ctr.exists() or not socket.exists():
            continue
        base = [str(ctr), f"--address={socket}", "--namespace=k8s.io"]
        listed = subprocess.run([*base, "tasks", "ls", "-q"], capture_output=True, text=True,
                                check=False, timeout=20)
        for task in listed.stdout.split():
            subprocess.run([*base, "tasks", "delete", "--force", task], capture_output=True,
                           check=False, timeout=20)


def kill_shims(state: ClusterState) -> None:
    """Shims daemonize out of containerd's process group; find ours by their socket argument."""
    for record in _by_prefix(state, "containerd-"):
        shim = Path(record.argv[0]).with_name("containerd-shim-runc-v2")
        config = next((a.split("=", 1)[1] for a in record.argv if a.startswith("--config=")), "")
        socket = str(Path(config).with_name("containerd.sock"))
        if shim.exists():
            kill_pids(pids_of_executable(shim, socket))


def remove_cgroups(state: ClusterState) -> None:
    """Remove each kubelet's cgroup root from every hierarchy (killing what is left inside)."""
    for root in state.cgroups:
        for mount in host.cgroup_mounts():
            host.remove_cgroup_tree(mount / root.strip("/"))


def remove_bridges(state: ClusterState) -> None:
    for bridge in state.bridges:
        host.delete_bridge(bridge)


def remove_kube_proxy_tables(state: ClusterState) -> None:
    """kube-proxy leaves its nftables tables behind when it stops."""
    if state.facts.get("kube_proxy_tables"):
        services.delete_kube_proxy_tables()


def remove_directories(state: ClusterState) -> None:
    """Directories created outside the run directory (shim sockets under /run/fakehw,
    kubelet roots under /var/lib/fakehw)."""
    for directory in state.directories:
        shutil.rmtree(directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            Path(directory).parent.rmdir()  # /run/fakehw itself, once no cluster uses it


def unmount_everything(state: ClusterState, run_dir: Path) -> None:
    """Pod volumes under the kubelet roots, and anything left under the run directory."""
    for directory in [*map(Path, state.directories), run_dir]:
        host.unmount_all(directory)


def remove_run_dir(run_dir: Path) -> None:
    """Delete everything but logs/, which stays for post-mortems."""
    if not run_dir.is_dir():
        return
    for child in run_dir.iterdir():
        if child.name == "logs":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                child.unlink()


def remove_host_leftovers(state: ClusterState, run_dir: Path) -> None:
    """What the kubelet and CNI wrote at fixed host paths (see leftovers.py)."""
    leftovers.remove_log_links(run_dir)
    leftovers.remove_cni_results(state.facts.get("cni_networks", []))
    leftovers.remove_device_plugin_socket()
    leftovers.remove_created(state.facts.get("created_host_paths", []))


def remove_hardware(state: ClusterState) -> None:
    for root in state.facts.get("hardware_trees", []):
        machine.down(Path(root))


def teardown_steps(state: ClusterState, run_dir: Path) -> list[Step]:
    """The ordered steps of `down`."""
    kubelets = _by_prefix(state, "kubelet-")
    rest = [p for p in state.processes if p not in kubelets]
    return [
        Step("stop kubelets", lambda: stop_processes(kubelets)),
        Step("remove containers", lambda: remove_containers(state)),
        Step("stop containerd and the control plane", lambda: stop_processes(rest)),
        Step("kill leftover shims", lambda: kill_shims(state)),
        Step("remove fake hardware, stopping its cameras", lambda: remove_hardware(state)),
        Step("remove pod cgroups", lambda: remove_cgroups(state)),
        Step(f"unmount everything under {run_dir} and the kubelet roots",
             lambda: unmount_everything(state, run_dir)),
        Step("delete bridges", lambda: remove_bridges(state)),
        Step("delete kube-proxy's nftables tables", lambda: remove_kube_proxy_tables(state)),
        Step("remove shim socket and kubelet directories", lambda: remove_directories(state)),
        Step("remove what the kubelet and CNI left at host paths",
             lambda: remove_host_leftovers(state, run_dir)),
        Step(f"remove {run_dir} (logs/ is kept)", lambda: remove_run_dir(run_dir)),
    ]

"""The host side of a local cluster: preflight checks, cgroups, mounts and bridges.

A local cluster touches the kernel in three ways and undoes each on `down`:
- cgroups: every kubelet gets a cgroup root named for the project in each hierarchy; pods go
  below it. The machine's own cgroups (including the one this process runs in) are never
  moved, limited or removed.
- mounts: kubelet and containerd mount tmpfs, overlay and netns files under the run directory
  and the kubelet roots (each root is a shared bind mount of itself, see mountns.py);
  everything mounted below them is unmounted, deepest first.
- network: one bridge per node with the node's address; no iptables rules are added (no
  masquerading, the kubelet's utility chains turned off), so pods reach only this host and
  each other. With Services, kube-proxy programs its own nftables tables, which `down`
  deletes (services.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from fakehw.cluster.errors import HostError, PortInUseError

MNT_DETACH = 2
CGROUP_FS = ("cgroup", "cgroup2")


def require_root() -> None:
    """A local cluster creates bridges, cgroups and mounts: only root can."""
    if os.geteuid() != 0:
        raise HostError("the local provider runs kubelet and containerd and must run as root; "
                        "use sudo, or the kind provider")


def require_tools(tools: Iterable[str]) -> dict[str, Path]:
    """Find each tool on PATH (plus sbin directories); name the Debian package if missing."""
    packages = {"ip": "iproute2", "mount": "mount"}
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found: dict[str, Path] = {}
    for tool in tools:
        path = shutil.which(tool, path=search)
        if path is None:
            raise HostError(f"`{tool}` is not installed; `apt-get install "
                            f"{packages.get(tool, tool)}`")
        found[tool] = Path(path)
    return found


def require_runc(path: Path) -> Path:
    """The runc the nodes run, as given (never a PATH look-up), and answering `--version`."""
    fix = "`apt-get install runc`, or name another with --runc (FAKEHW_RUNC)"
    if not path.is_absolute():
        raise HostError(f"--runc {path}: give an absolute path; {fix}")
    if not os.access(path, os.X_OK) or not path.is_file():
        raise HostError(f"runc {path} is not an executable file; {fix}")
    done = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or not done.stdout.startswith("runc version"):
        raise HostError(f"{path} --version did not answer as runc does "
                        f"({(done.stderr or done.stdout).strip()[:200]!r}); {fix}")
    return path


def require_cni_plugins(directory: Path, plugins: Iterable[str]) -> None:
    """The bridge, host-local and loopback CNI plugins, all in the one folder containerd is
    given (Debian: containernetworking-plugins)."""
    missing = [plugin for plugin in plugins if not (directory / plugin).is_file()]
    if missing:
        raise HostError(f"CNI plugins {', '.join(missing)} are not in {directory}; "
                        "`apt-get install containernetworking-plugins`, or name the folder "
                        "that holds them with --cni-bin-dir (FAKEHW_CNI_BIN_DIR)")


def node_path(*directories: Path) -> str:
    """PATH for a node's containerd and kubelet: the cluster's own binaries first, then the
    system's folders; never the caller's PATH, whose first entries may hold another
    engine's shim or runc. (containerd is also told its shim and runc by absolute path.)"""
    system = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
    return os.pathsep.join(dict.fromkeys([*(str(d) for d in directories), *system]))


def check_ports(ports: Mapping[str, int]) -> None:
    """Fail with the port's number and purpose if anything listens on it already."""
    for purpose, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise PortInUseError(port, purpose) from None
                raise


def cgroup_mounts() -> list[Path]:
    """Every mounted cgroup hierarchy (v1 controllers, named ones, and the v2 unified one)."""
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[0] in CGROUP_FS:
            mounts.append(Path(_unescape(left.split()[4])))
    return mounts


def create_cgroup_root(name: str) -> list[str]:
    """Create `/<name>` in every hierarchy, with cpuset values copied from the parent."""
    created = []
    for mount in cgroup_mounts():
        path = mount / name.strip("/")
        if not path.exists():
            path.mkdir()
            created.append(str(path))
        for knob in ("cpuset.cpus", "cpuset.mems"):
            if (mount / knob).exists() and not (path / knob).read_text().strip():
                (path / knob).write_text((mount / knob).read_text())
    return created


def remove_cgroup_tree(path: Path) -> None:
    """Kill whatever is still inside `path` (our pods only) and remove it, children first."""
    if not path.exists():
        return
    for directory, _, _ in os.walk(path, topdown=False):
        procs = Path(directory) / "cgroup.procs"
        with contextlib.suppress(OSError):
            for pid in procs.read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
    for directory, _, _ in os.walk(path, topdown=False):
        for _ in range(50):
            try:
                os.rmdir(directory)
                break
            except FileNotFoundError:
                break
            except OSError:
                # Killed processes take a moment to leave the cgroup.
                time.sleep(0.05)


def _unescape(path: str) -> str:
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")


def mounts_under(directory: Path) -> list[str]:
    """Mount points at or below `directory`, deepest first."""
    prefix = str(directory.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = _unescape(line.split()[4])
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(set(points), key=lambda p: (p.count("/"), p), reverse=True)


def unmount_all(directory: Path) -> None:
    """Lazily unmount everything below `directory` until nothing is left."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    for _ in range(10):
        points = mounts_under(directory)
        if not points:
            return
        for point in points:
            libc.umount2(point.encode(), MNT_DETACH)
    left = mounts_under(directory)
    if left:
        raise HostError(f"could not unmount {', '.join(left[:5])}")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `ip args...`; raise HostError with its message on failure when `check`."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise HostError(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")
    return done


def link_exists(name: str) -> bool:
    """True when a network interface of that name exists."""
    return Path("/sys/class/net", name).exists()


def create_bridge(name: str, address: str, prefix: int) -> None:
    """A bridge holding the node's address (its InternalIP and the pods' gateway)."""
    if link_exists(name):
        done = ip("link", "delete", name, check=False)
        if done.returncode != 0 and link_exists(name):
            raise HostError(f"cannot delete bridge {name}: {done.stderr.strip()}")
    ip("link", "add", "name", name, "type", "bridge")
    ip("addr", "add", f"{address}/{prefix}", "dev", name)
    ip("link", "set", name, "up")


def delete_bridge(name: str) -> None:
    """Delete the veths still attached to the bridge, then the bridge itself."""
    ports = Path("/sys/class/net", name, "brif")
    if ports.is_dir():
        for port in ports.iterdir():
            ip("link", "delete", port.name, check=False)
    if link_exists(name):
        done = ip("link", "delete", name, check=False)
        if done.returncode != 0 and link_exists(name):
            raise HostError(f"cannot delete bridge {name}: {done.stderr.strip()}")

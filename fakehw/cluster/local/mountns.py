"""Run a node's kubelet in a mount namespace where /var/lib/kubelet is the node's own root.

    python -m fakehw.cluster.local.mountns --bind SOURCE:TARGET [--bind ...] -- COMMAND ...

The process unshares its mount namespace, keeps the host's mounts as they are except that the
namespace's root mount stops propagating (so the bind mounts made here never reach the host),
bind-mounts each SOURCE on TARGET and execs COMMAND (same PID). SOURCE must be a shared mount
(`share()` makes it one, in the host's namespace): what the kubelet mounts below it (pod
volumes) then propagates back to the host, where containerd mounts them into containers.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

CLONE_NEWNS = 0x00020000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SHARED = 1 << 20


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _mount(libc: ctypes.CDLL, source: str | None, target: str, flags: int, what: str) -> None:
    _check(libc.mount(source.encode() if source else None, target.encode(), None, flags, None),
           what)


def share(directory: Path) -> None:
    """Make `directory` a shared mount of its own (a bind mount on itself), as the kubelet
    does with its root when it runs in a container. Idempotent."""
    libc = _libc()
    point = str(directory.resolve())
    mounted = any(line.split()[4] == point
                  for line in Path("/proc/self/mountinfo").read_text().splitlines())
    if not mounted:
        _mount(libc, point, point, MS_BIND, f"bind-mount {point} on itself")
    _mount(libc, None, point, MS_SHARED, f"make {point} a shared mount")


def enter(binds: Sequence[tuple[str, str]], command: Sequence[str]) -> None:
    """Unshare, bind, exec `command`; never returns."""
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(libc, None, "/", MS_PRIVATE, "make / private in the new mount namespace")
    for source, target in binds:
        Path(target).mkdir(parents=True, exist_ok=True)
        _mount(libc, source, target, MS_BIND, f"bind-mount {source} on {target}")
    os.execv(command[0], list(command))  # noqa: S606 (the command line as given, no shell)


def command_of(argv: Sequence[str]) -> list[str]:
    """The wrapped command of a command line that may start with this module."""
    argv = list(argv)
    if len(argv) > 2 and argv[1:3] == ["-m", __name__] and "--" in argv:
        return argv[argv.index("--") + 1:]
    return argv


def wrap(binds: Sequence[tuple[Path, str]], command: Sequence[str]) -> list[str]:
    """The command line that runs `command` through this module, in this Python."""
    flags = [f"--bind={source}:{target}" for source, target in binds]
    return [sys.executable, "-m", __name__, *flags, "--", *command]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}")
    parser.add_argument("--bind", action="append", default=[], metavar="SOURCE:TARGET")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")
    if any(":" not in b for b in args.bind):
        parser.error("--bind takes SOURCE:TARGET")
    try:
        enter([(source, target) for source, _, target in (b.partition(":") for b in args.bind)],
              command)
    except OSError as error:
        sys.exit(f"mountns: {error}")


if __name__ == "__main__":
    main()

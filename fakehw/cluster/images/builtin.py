"""The two images every local cluster has: the pause image and a small workload image.

pause:    the project's pause program alone; containerd's pinned sandbox image.
workload: Debian's static busybox (package busybox-static) with a link for every applet, so
          test pods have a shell and the usual tools without any registry.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Literal

from fakehw.cluster.errors import HostError
from fakehw.cluster.images.oci import Entry, ImageSpec

PAUSE_IMAGE = "fakehw.local/pause:1.0"
WORKLOAD_IMAGE = "fakehw.local/workload:1"
BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
_PT_INTERP = 3
# `id`, `whoami` and `ls -l` in a test pod read it.
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"


def pause_image(pause_binary: Path) -> ImageSpec:
    """The sandbox image: /pause and nothing else."""
    return ImageSpec(
        name=PAUSE_IMAGE,
        entries=[Entry("pause", source=pause_binary)],
        entrypoint=["/pause"],
    )


def is_static_elf(path: Path) -> bool:
    """True when the ELF file has no program interpreter (it needs no shared libraries)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    order: Literal["little", "big"] = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[0x20:0x28], order)
    phentsize = int.from_bytes(data[0x36:0x38], order)
    phnum = int.from_bytes(data[0x38:0x3A], order)
    for i in range(phnum):
        start = phoff + i * phentsize
        if int.from_bytes(data[start : start + 4], order) == _PT_INTERP:
            return False
    return True


def find_static_busybox() -> Path:
    """Debian's static busybox, or an error naming the package to install."""
    for candidate in BUSYBOX_CANDIDATES:
        if candidate.is_file() and is_static_elf(candidate.resolve()):
            return candidate.resolve()
    raise HostError(
        "the workload image needs a statically linked busybox; install Debian's "
        "busybox-static package (`apt-get install busybox-static`)"
    )


def busybox_applets(busybox: Path) -> list[str]:
    """Paths (without a leading slash) of every applet the busybox binary provides."""
    out = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True,
                         check=True)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def workload_image(busybox: Path | None = None) -> ImageSpec:
    """A shell image for test pods: /bin/busybox plus a link per applet."""
    binary = busybox or find_static_busybox()
    links = [
        Entry(applet, link="/bin/busybox")
        for applet in busybox_applets(binary)
        if applet != "bin/busybox"
    ]
    return ImageSpec(
        name=WORKLOAD_IMAGE,
        entries=[Entry("bin/busybox", source=binary), *links,
                 Entry("tmp", mode=0o1777), Entry("etc/passwd", data=PASSWD)],
        cmd=["/bin/sh"],
    )

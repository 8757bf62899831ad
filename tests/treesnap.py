"""A comparable picture of a tree: every path with its type and its content or link target."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def snapshot(root: Path, *, skip: tuple[str, ...] = (".fakehw",)) -> dict[str, str]:
    picture: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in [*dirs, *files]:
            path = Path(folder) / name
            info = path.lstat()
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                picture[key] = "link:" + os.readlink(path)
            elif stat.S_ISCHR(info.st_mode):
                picture[key] = f"chr:{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
            elif stat.S_ISDIR(info.st_mode):
                picture[key] = "dir"
            else:
                picture[key] = "file:" + path.read_bytes().hex()[:200]
    return picture

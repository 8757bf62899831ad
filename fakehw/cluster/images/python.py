"""A Python program's image, assembled from this machine's interpreter and installed packages.

With no registry there is no `python:3.11-slim` to start from, but everything a Python program
needs is on this machine already: the interpreter the project runs with, its standard library,
the installed distributions and the shared libraries all of these load. The image holds only
those, laid out the way a Python built with `--prefix=/usr/local` expects:

    /usr/local/bin/python3.X                the interpreter, with python3 and python links
    /usr/local/lib/libpython3.X.so.1.0      if the interpreter is built shared
    /usr/local/lib/python3.X/               the standard library (no tests, IDLE, Tk, ensurepip)
    /usr/local/lib/python3.X/site-packages/ the distributions asked for, what they require,
                                            and the program's own packages
    /lib/..., /usr/lib/...                  every other shared library, where the dynamic
                                            loader found it on this machine

Compiled `.pyc` files keep their sources' modification times, so Python uses them instead of
compiling the kubernetes client at every start.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import sysconfig
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from fakehw.cluster.errors import HostError
from fakehw.cluster.images.builtin import PASSWD
from fakehw.cluster.images.oci import Entry, ImageSpec

PREFIX = "usr/local"
# Parts of the standard library no program in an image runs.
STDLIB_SKIPPED = frozenset({"site-packages", "test", "tests", "idlelib", "tkinter", "turtledemo",
                            "ensurepip", "lib2to3", "pydoc_data", "__phello__"})
_LDD_LIBRARY = re.compile(r"^\s*(?P<soname>\S+) => (?P<path>\S+)")
_LDD_LOADER = re.compile(r"^\s*(?P<path>/\S+) \(0x[0-9a-f]+\)$")


@dataclass(frozen=True)
class PythonProgram:
    """What goes into the image of one Python program."""

    name: str  # the image reference, e.g. fakehw.local/dra-reference:0.1.0
    module: str  # run as `python -m MODULE`
    packages: Sequence[Path]  # package folders copied into site-packages as they are
    distributions: Sequence[str]  # installed distributions, with everything they require
    metadata: tuple[str, str] | None = None  # (name, version) of the program's distribution


def python_image(program: PythonProgram) -> ImageSpec:
    """The image of `program`, run by this interpreter; HostError names what is missing."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    lib = f"{PREFIX}/lib/{version}"
    entries = {e.path: e for e in _interpreter(version)}
    entries.update((e.path, e) for e in _stdlib(Path(sysconfig.get_path("stdlib")), lib))
    site = f"{lib}/site-packages"
    for name in distribution_closure(program.distributions):
        entries.update((e.path, e) for e in _distribution_files(name, site))
    for package in program.packages:
        entries.update((e.path, e) for e in _tree(package, f"{site}/{package.name}"))
    if program.metadata is not None:
        entry = _metadata_entry(site, *program.metadata)
        entries[entry.path] = entry
    entries.update((e.path, e) for e in _shared_libraries(entries.values()))
    base = [Entry("tmp", mode=0o1777), Entry("etc/passwd", data=PASSWD, mode=0o644)]
    return ImageSpec(
        name=program.name,
        entries=[*entries.values(), *base],
        entrypoint=[f"/{PREFIX}/bin/python3", "-m", program.module],
        env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             f"LD_LIBRARY_PATH=/{PREFIX}/lib", "PYTHONUNBUFFERED=1"),
        labels={"org.opencontainers.image.title": program.name.rsplit(":", 1)[0]},
    )


def distribution_closure(names: Iterable[str]) -> list[str]:
    """`names` and every distribution they require (markers and extras honoured), in order."""
    seen: dict[str, None] = {}
    done: set[tuple[str, frozenset[str]]] = set()  # a distribution with extras, once each
    queue = deque((name, frozenset[str]()) for name in names)
    while queue:
        name, extras = queue.popleft()
        key = _canonical(name)
        if (key, extras) in done:
            continue
        done.add((key, extras))
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise HostError(f"the image needs the Python distribution {name!r}, which is not "
                            f"installed for {sys.executable}; run `make setup`") from None
        seen[key] = None
        for text in distribution.requires or ():
            requirement = Requirement(text)
            wanted = extras or {""}
            if requirement.marker and not any(
                    requirement.marker.evaluate({"extra": extra}) for extra in wanted):
                continue
            queue.append((requirement.name, frozenset(requirement.extras)))
    return list(seen)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entry(source: Path, path: str) -> Entry:
    status = source.stat()
    return Entry(path, source=source, mode=status.st_mode & 0o777, mtime=int(status.st_mtime))


def _interpreter(version: str) -> Iterator[Entry]:
    binary = Path(sys.executable).resolve()
    yield _entry(binary, f"{PREFIX}/bin/{version}")
    for link in ("python3", "python"):
        yield Entry(f"{PREFIX}/bin/{link}", link=version)


def _keeps(relative: Path) -> bool:
    if set(relative.parts[:-1]) & STDLIB_SKIPPED:
        return False
    if relative.parts[0].startswith("config-") or relative.name.startswith("_tkinter"):
        return False
    # one compiled form per module: the plain one (not opt-1 or opt-2)
    return not (relative.suffix == ".pyc" and ".opt-" in relative.name)


def _stdlib(stdlib: Path, target: str) -> Iterator[Entry]:
    for source in _files(stdlib):
        relative = source.relative_to(stdlib)
        if _keeps(relative):
            yield _entry(source, f"{target}/{relative.as_posix()}")


def _files(root: Path) -> Iterator[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                yield path


def _tree(package: Path, target: str) -> Iterator[Entry]:
    """A package folder from the checkout: its sources and data, no compiled files."""
    if not (package / "__init__.py").is_file():
        raise HostError(f"{package} is not a Python package (no __init__.py)")
    for source in _files(package):
        relative = source.relative_to(package)
        if "__pycache__" not in relative.parts:
            yield _entry(source, f"{target}/{relative.as_posix()}")


def _distribution_files(name: str, site: str) -> Iterator[Entry]:
    distribution = importlib.metadata.distribution(name)
    if distribution.files is None:
        raise HostError(f"the installed distribution {name!r} lists no files (no RECORD); "
                        "reinstall it with pip")
    for file in distribution.files:
        if ".." in file.parts or file.name.endswith((".pth", "_finder.py")):
            continue  # scripts in bin/, and an editable install's import hooks
        source = Path(str(distribution.locate_file(file)))
        if source.is_file():
            yield _entry(source, f"{site}/{file.as_posix()}")


def _metadata_entry(site: str, name: str, version: str) -> Entry:
    """The program's own distribution, so importlib.metadata.version(name) answers."""
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    folder = f"{re.sub(r'[-.]+', '_', name)}-{version}.dist-info"
    return Entry(f"{site}/{folder}/METADATA", data=text.encode(), mode=0o644)


def _is_elf(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(4) == b"\x7fELF"


def _shared_libraries(entries: Iterable[Entry]) -> list[Entry]:
    """Every library the image's ELF files load and the image does not hold yet."""
    held = {e.source.resolve() for e in entries if e.source is not None}
    elves = sorted(str(e.source) for e in entries if e.source is not None and _is_elf(e.source))
    base_lib = Path(sysconfig.get_config_var("LIBDIR") or sys.base_prefix + "/lib").resolve()
    libraries: dict[str, Entry] = {}
    for path in _ldd(elves):
        source = Path(path).resolve()
        if source in held:
            continue  # shipped inside a wheel (grpcio, numpy.libs, ...)
        target = (f"{PREFIX}/lib/{Path(path).name}" if source.parent == base_lib
                  else path.lstrip("/"))
        libraries.setdefault(target, _entry(source, target))
    return list(libraries.values())


def _ldd(files: Sequence[str], batch: int = 200) -> set[str]:
    """The paths of the libraries (and the loader) the dynamic loader finds for `files`."""
    found: set[str] = set()
    for start in range(0, len(files), batch):
        chunk = files[start:start + batch]
        done = subprocess.run(["ldd", *chunk], capture_output=True, text=True, check=False)
        current = chunk[0]
        for line in done.stdout.splitlines():
            if not line.startswith(("\t", " ")):
                current = line.rstrip(":")
                continue
            if "=> not found" in line:
                raise HostError(f"{current} needs {line.split()[0]}, which the dynamic loader "
                                "does not find on this machine; install the package that has it")
            match = _LDD_LIBRARY.match(line) or _LDD_LOADER.match(line)
            if match and match["path"].startswith("/"):
                found.add(match["path"])
    return found

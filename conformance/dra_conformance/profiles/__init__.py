"""Driver profiles: the versioned YAML a vendor writes, parsed into ``DriverProfile``.

    model.py     the dataclasses the suite reads
    fields.py    reading YAML with errors that name the field and the fix
    v1alpha1.py  schema conformance.fakehw.dev/v1alpha1
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dra_conformance.errors import ProfileError
from dra_conformance.profiles import v1alpha1
from dra_conformance.profiles.model import DriverProfile

__all__ = ["DriverProfile", "load", "loads", "minimal"]

_PARSERS = {v1alpha1.API_VERSION: v1alpha1.parse}


def loads(text: str, source: str = "<string>", base: Path | None = None) -> DriverProfile:
    """Parse a profile from YAML text, picking the parser by ``apiVersion``."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(source, "<document>", f"is not YAML: {exc}") from exc
    version = doc.get("apiVersion") if isinstance(doc, dict) else None
    parser = _PARSERS.get(str(version))
    if parser is None:
        raise ProfileError(source, "apiVersion", f"{version!r} is not supported; use one of: "
                           f"{', '.join(_PARSERS)}")
    return parser(doc, source, base)


def load(path: Path) -> DriverProfile:
    """Parse the profile file at ``path``; relative paths inside are relative to it."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProfileError(str(path), "<file>", f"cannot be read: {exc.strerror}") from exc
    return loads(text, str(path), path.parent)


def minimal(driver: str) -> DriverProfile:
    """The profile of a driver known only by name (``--dra-driver`` without a profile)."""
    return DriverProfile(driver=driver, source="--dra-driver")

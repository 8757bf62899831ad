"""Hardware profiles: versioned YAML documents describing one node's devices.

``load`` accepts a built-in profile's name or a path to a YAML file and returns the internal
model. Versions are dispatched on ``apiVersion`` so older documents keep working.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from fakehw.errors import ProfileError
from fakehw.profiles import schema_v1alpha1
from fakehw.profiles.model import FPGA, GPU, Camera, CXLMemory, HardwareProfile

__all__ = [
    "FPGA",
    "GPU",
    "CXLMemory",
    "Camera",
    "HardwareProfile",
    "builtin_names",
    "load",
    "parse",
]

_SCHEMAS = {schema_v1alpha1.API_VERSION: schema_v1alpha1.parse}


def builtin_names() -> list[str]:
    folder = resources.files("fakehw.profiles") / "builtin"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def load(name_or_path: str | Path) -> HardwareProfile:
    """Load a built-in profile by name, or a profile file by path."""
    path = Path(name_or_path)
    if str(name_or_path) in builtin_names():
        resource = resources.files("fakehw.profiles") / "builtin" / f"{name_or_path}.yaml"
        return parse(resource.read_text(), f"builtin:{name_or_path}")
    if not path.is_file():
        raise ProfileError(str(name_or_path), "<profile>", "no such built-in profile or file",
                           f"use a file path or one of: {', '.join(builtin_names())}")
    return parse(path.read_text(), str(path))


def parse(text: str, source: str = "<string>") -> HardwareProfile:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(source, "<document>", f"not valid YAML ({exc})",
                           "fix the YAML syntax") from None
    version = doc.get("apiVersion") if isinstance(doc, dict) else None
    schema = _SCHEMAS.get(str(version))
    if schema is None:
        raise ProfileError(source, "apiVersion", f"{version!r} is not a known version",
                           f"use one of: {', '.join(_SCHEMAS)}")
    return schema(doc, source)

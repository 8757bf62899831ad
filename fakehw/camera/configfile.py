"""The file a camera daemon serves: a list of cameras, or a whole hardware profile.

Two shapes are read, in JSON or YAML, so the daemon can serve a node's cameras straight from
its hardware profile, and tests can write a few lines of JSON:

    {"cameras": [{"name": "front-door", "port": 0, "auth": "basic"}]}     # CameraConfig fields
    apiVersion: fakehw.dev/v1alpha1                                       # a HardwareProfile
    kind: HardwareProfile
    ...

Every error names the file, the camera's index and the field (``ProfileError``).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path

import yaml

from fakehw.camera.config import CameraConfig, from_profile
from fakehw.errors import ProfileError

_FIELDS = tuple(f.name for f in dataclasses.fields(CameraConfig))


def load_cameras(path: Path) -> tuple[CameraConfig, ...]:
    """The cameras listed in ``path``; raises ProfileError naming what is wrong and where."""
    source = str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProfileError(source, "<file>", f"cannot be read ({exc.strerror})",
                           "pass the path of an existing JSON or YAML file") from None
    try:
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ProfileError(source, "<document>", f"is not valid JSON/YAML ({exc})",
                           "fix the syntax") from None
    if isinstance(doc, dict) and "apiVersion" in doc:
        # Looked up by name: the profile schema is another package's, checked on its own.
        profiles = importlib.import_module("fakehw.profiles")
        configs = tuple(from_profile(c) for c in profiles.parse(text, source).cameras)
    else:
        configs = parse_cameras(doc, source)
    if not configs:
        raise ProfileError(source, "cameras", "lists no camera", "add at least one camera")
    return configs


def parse_cameras(doc: object, source: str) -> tuple[CameraConfig, ...]:
    """Cameras from ``{"cameras": [...]}`` (or a bare list) of CameraConfig field mappings."""
    items = doc.get("cameras") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ProfileError(source, "cameras", "is missing or not a list",
                           'write {"cameras": [{"name": "cam0"}, ...]}')
    configs: list[CameraConfig] = []
    for index, item in enumerate(items):
        where = f"cameras[{index}]"
        if not isinstance(item, dict):
            raise ProfileError(source, where, "is not a mapping", "write the camera as key: value")
        unknown = sorted(set(item) - set(_FIELDS))
        if unknown:
            raise ProfileError(source, f"{where}.{unknown[0]}", "is not a camera field",
                               f"use only: {', '.join(_FIELDS)}")
        if "name" not in item:
            raise ProfileError(source, f"{where}.name", "is required", "give the camera a name")
        try:
            configs.append(CameraConfig(**item))
        except ProfileError as exc:
            raise ProfileError(source, f"{where}.{exc.field}", exc.problem, exc.fix) from None
    _check_unique(configs, source)
    return tuple(configs)


def _check_unique(configs: list[CameraConfig], source: str) -> None:
    names: set[str] = set()
    ports: set[tuple[str, int]] = set()
    for index, config in enumerate(configs):
        if config.name in names:
            raise ProfileError(source, f"cameras[{index}].name", f"{config.name!r} is repeated",
                               "give each camera its own name")
        if config.port and (config.host, config.port) in ports:
            raise ProfileError(source, f"cameras[{index}].port", f"{config.port} is taken by "
                               "another camera", "give each camera its own port, or 0")
        names.add(config.name)
        ports.add((config.host, config.port))

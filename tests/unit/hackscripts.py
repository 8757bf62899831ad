"""Loading a script of hack/ as Python runs it: its folder first on sys.path."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

HACK = Path(__file__).resolve().parents[2] / "hack"


def loaded(monkeypatch: pytest.MonkeyPatch, script: str) -> Iterator[ModuleType]:
    """hack/``script`` as a module; the job package it imported is forgotten afterwards."""
    monkeypatch.syspath_prepend(str(HACK))
    spec = importlib.util.spec_from_file_location(Path(script).stem.replace("-", "_"),
                                                  HACK / script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name in [n for n in sys.modules if n.split(".")[0] == "conformancejob"]:
        del sys.modules[name]

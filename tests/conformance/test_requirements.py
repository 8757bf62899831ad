"""The requirement catalogue: stable, unique IDs that cover the DRA contract."""

from __future__ import annotations

import re

import pytest
from dra_conformance import requirements
from dra_conformance.features import Feature
from dra_conformance.requirements import CATALOGUE, Level

pytestmark = pytest.mark.unit


def test_ids_are_unique_and_well_formed() -> None:
    ids = [requirement.id for requirement in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"DRA(-[A-Z]+)+-\d{3}", rid) for rid in ids)


def test_contract_behaviours_are_covered() -> None:
    sources = " ".join(requirement.source for requirement in CATALOGUE)
    for item in range(1, 13):
        assert re.search(rf"contracts? [\d, ]*\b{item}\b", sources), f"contract {item}"


def test_every_feature_has_a_requirement() -> None:
    assert {r.feature for r in CATALOGUE if r.feature} == set(Feature)


def test_features_never_weaken_musts() -> None:
    assert all(r.level is Level.MUST for r in CATALOGUE if r.feature)


def test_lookup_suggests_close_ids() -> None:
    assert requirements.get("DRA-REG-001").tier.value == "socket"
    with pytest.raises(KeyError, match="DRA-REG-001"):
        requirements.get("DRA-REG-999")

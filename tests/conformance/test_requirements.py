"""The requirement catalogue: stable, unique IDs that cover the DRA contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dra_conformance import catalogue, requirements, verdicts
from dra_conformance.features import Feature
from dra_conformance.requirements import CATALOGUE, Level
from dra_conformance.sources import SOURCES
from dra_conformance.verdicts import Verdict

pytestmark = pytest.mark.unit


def test_ids_are_unique_and_well_formed() -> None:
    ids = [requirement.id for requirement in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"DRA(-[A-Z]+)+-\d{3}", rid) for rid in ids)


def test_every_requirement_has_a_source_at_the_pinned_kubernetes() -> None:
    assert set(SOURCES) == {r.id for r in CATALOGUE}
    for requirement in CATALOGUE:
        source = requirement.source
        assert re.match(r"[a-z0-9./-]+@v\d+\.\d+\.\d+/\S+$", source.where), requirement.id
        assert source.anchor
        assert source.quote
        assert source.note, f"{requirement.id} does not say why it is {requirement.level}"


def test_the_committed_catalogue_document_is_current() -> None:
    committed = (Path(__file__).parents[2] / "conformance" / "CATALOGUE.md").read_text()
    assert committed == catalogue.render(), "conformance/CATALOGUE.md is stale: make catalogue"


def test_the_document_names_each_requirements_tests() -> None:
    tests = catalogue.requirement_tests()
    assert tests["DRA-PREP-012"] == ["test_prepare::test_unusable_claim_is_never_prepared"]
    assert "test_restart::test_a_stopped_instance_leaves_no_socket_behind" in tests["DRA-REG-006"]
    assert set(tests) <= {r.id for r in CATALOGUE}, "a test names an unknown requirement"


def test_every_feature_has_a_requirement() -> None:
    assert {r.feature for r in CATALOGUE if r.feature} == set(Feature)


def test_only_musts_decide_and_practice_is_its_own_level() -> None:
    assert {r.level for r in CATALOGUE} == set(Level)
    assert requirements.get("DRA-PREP-012").level is Level.MUST
    assert requirements.get("DRA-PREP-003").level is Level.SHOULD  # upstream allows a call error


def test_lookup_suggests_close_ids() -> None:
    assert requirements.get("DRA-REG-001").tier.value == "socket"
    with pytest.raises(KeyError, match="DRA-REG-001"):
        requirements.get("DRA-REG-999")


def test_hardware_checks_do_not_apply_to_simulated_devices() -> None:
    hardware = [r for r in CATALOGUE if r.hardware]
    assert {r.id for r in hardware} == {"DRA-SLICE-006", "DRA-PREP-008", "DRA-PREP-014",
                                        "DRA-UNPREP-007",
                                        "DRA-ALLOC-009"}
    every = frozenset(Feature)
    real = {v.requirement.id: v for v in verdicts.judge([], every)}
    simulated = {v.requirement.id: v for v in verdicts.judge([], every, simulated=True)}
    for requirement in hardware:
        assert real[requirement.id].verdict is Verdict.NOT_RUN
        assert simulated[requirement.id].verdict is Verdict.NOT_APPLICABLE
        assert "simulated" in simulated[requirement.id].evidence[0]
    assert simulated["DRA-ALLOC-001"].verdict is Verdict.NOT_RUN  # everything else still applies

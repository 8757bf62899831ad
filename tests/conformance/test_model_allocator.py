"""The allocator model: its allocations are valid, and it agrees with brute force."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

import pytest
from dra_conformance.model.allocator import Result, allocate, constraint_problems, verify
from dra_conformance.model.cel import Quantity
from dra_conformance.model.claims import ClaimModel, Constraint, Exactly, Request
from dra_conformance.model.inventory import Device, from_slices
from dra_conformance.model.strategies import claims
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit
DRIVER = "gpu.example.com"
CLASS = "gpu.example.com"


@st.composite
def inventories(draw: st.DrawFn, max_devices: int = 5) -> list[Device]:
    """Small inventories over one or two nodes; some devices lack some attributes."""
    count = draw(st.integers(1, max_devices))
    devices = []
    for index in range(count):
        attributes: dict[str, int | bool | str] = {f"{DRIVER}/numa": draw(st.integers(0, 1))}
        if draw(st.booleans()):
            attributes[f"{DRIVER}/model"] = draw(st.sampled_from(["a770", "a380"]))
        if draw(st.booleans()):
            attributes[f"{DRIVER}/healthy"] = draw(st.booleans())
        memory = draw(st.sampled_from([8, 16])) * 2**30
        devices.append(Device(DRIVER, "pool", f"gpu-{index}",
                              node=draw(st.sampled_from(["n1", "n2"])), attributes=attributes,
                              capacity={f"{DRIVER}/memory": Quantity(Fraction(memory))}))
    return devices


@st.composite
def scenarios(draw: st.DrawFn, *, first_available: bool = True,
              ) -> tuple[list[Device], ClaimModel]:
    devices = draw(inventories())
    return devices, draw(claims(devices, device_class=CLASS, first_available=first_available))


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_allocations_found_are_valid(scenario: tuple[list[Device], ClaimModel]) -> None:
    devices, claim = scenario
    outcome = allocate(claim, devices)
    if outcome.results is not None:
        assert verify(claim, outcome.results, devices) == []


def brute_force(claim: ClaimModel, devices: Sequence[Device]) -> bool:
    """Try every choice of alternatives and every assignment of distinct devices."""
    for choice in itertools.product(*(r.alternatives() for r in claim.requests)):
        slots: list[tuple[str, Exactly]] = []
        for name, spec in choice:
            if spec.all_devices:
                return _all_mode_unsupported()
            slots += [(name, spec)] * spec.count
        for picked in itertools.permutations(devices, len(slots)):
            results = [Result(name, device) for (name, _), device in zip(slots, picked,
                                                                         strict=True)]
            if not verify(claim, results, devices):
                return True
    return False


def _all_mode_unsupported() -> bool:
    raise AssertionError("brute force covers ExactCount only")


@settings(max_examples=300, deadline=None)
@given(scenarios(first_available=True))
def test_model_agrees_with_brute_force(scenario: tuple[list[Device], ClaimModel]) -> None:
    devices, claim = scenario
    if any(spec.all_devices for r in claim.requests for _, spec in r.alternatives()):
        return
    assert allocate(claim, devices).satisfiable == brute_force(claim, devices)


def gpu(name: str, node: str = "n1", **attributes: int | str | bool) -> Device:
    return Device(DRIVER, "pool", name, node=node,
                  attributes={f"{DRIVER}/{k}": v for k, v in attributes.items()})


def exactly(count: int = 1, *selectors: str, all_devices: bool = False) -> Request:
    return Request("r", exactly=Exactly("r", CLASS, selectors, count, all_devices))


def test_all_mode_fails_when_a_matching_device_is_in_use() -> None:
    devices = [gpu("a", numa=0), gpu("b", numa=0)]
    claim = ClaimModel((exactly(1, all_devices=True),))
    assert len(allocate(claim, devices).results or ()) == 2
    assert not allocate(claim, devices, used=[devices[0].key]).satisfiable


def test_devices_of_one_claim_share_a_node() -> None:
    devices = [gpu("a", "n1"), gpu("b", "n2")]
    assert not allocate(ClaimModel((exactly(2),)), devices).satisfiable


def test_first_available_prefers_the_first_subrequest() -> None:
    devices = [gpu("a", model="small"), gpu("b", model="big")]
    request = Request("r", first_available=(
        Exactly("big", CLASS, (f'device.attributes["{DRIVER}"].model == "big"',)),
        Exactly("any", CLASS)))
    outcome = allocate(ClaimModel((request,)), devices)
    assert outcome.results is not None
    assert [(r.request, r.device.name) for r in outcome.results] == [("r/big", "b")]


def test_cel_runtime_error_makes_the_claim_unsatisfiable() -> None:
    devices = [gpu("a", numa=0)]
    outcome = allocate(ClaimModel((exactly(1, f'device.attributes["{DRIVER}"].x == 1'),)),
                       devices)
    assert not outcome.satisfiable
    assert "CEL runtime error" in outcome.reason


def test_constraints() -> None:
    devices = [gpu("a", numa=0), gpu("b", numa=1), gpu("c", numa=1)]
    match = ClaimModel((exactly(2),), (Constraint((), match_attribute=f"{DRIVER}/numa"),))
    outcome = allocate(match, devices)
    assert outcome.results is not None
    assert {r.device.name for r in outcome.results} == {"b", "c"}
    distinct = ClaimModel((exactly(3),), (Constraint((), distinct_attribute=f"{DRIVER}/numa"),))
    assert not allocate(distinct, devices).satisfiable
    assert constraint_problems(distinct.constraints, [Result("r", d) for d in devices])


def test_verify_names_the_broken_rule() -> None:
    devices = [gpu("a", model="x"), gpu("b", model="y")]
    claim = ClaimModel((exactly(1, f'device.attributes["{DRIVER}"].model == "x"'),))
    assert verify(claim, [Result("r", devices[1])], devices) == [
        "request r: ['b'] do not match its selectors"]


def test_claims_render_to_the_api() -> None:
    claim = ClaimModel((Request("r", first_available=(Exactly("s", CLASS, ("true",), 2),)),),
                       (Constraint(("r",), match_attribute=f"{DRIVER}/numa"),))
    assert claim.to_api() == {"devices": {
        "requests": [{"name": "r", "firstAvailable": [
            {"name": "s", "deviceClassName": CLASS, "selectors": [{"cel": {"expression":
                                                                          "true"}}],
             "allocationMode": "ExactCount", "count": 2}]}],
        "constraints": [{"requests": ["r"], "matchAttribute": f"{DRIVER}/numa"}]}}


def test_inventory_from_slices() -> None:
    devices = from_slices([{"spec": {
        "driver": DRIVER, "nodeName": "n1", "pool": {"name": "n1"},
        "devices": [{"name": "gpu-0", "attributes": {
            "model": {"string": "a770"}, "numa.example.com/node": {"int": 0},
            "driverVersion": {"version": "1.2.3"}},
            "capacity": {"memory": {"value": "16Gi"}}}]}}])
    assert devices[0].attributes[f"{DRIVER}/model"] == "a770"
    assert devices[0].attributes["numa.example.com/node"] == 0
    assert devices[0].capacity[f"{DRIVER}/memory"] == Quantity(Fraction(16 * 2**30))
    assert devices[0].cel()["attributes"]["numa.example.com"] == {"node": 0}


def test_claims_strategy_validates_arguments() -> None:
    with pytest.raises(ValueError, match="at least one device"):
        claims([], device_class=CLASS)


def sriov_slices() -> list[dict[str, object]]:
    """One PF holding 16Gi of memory counter and two VFs of 8Gi each, as a driver splits them."""
    def device(name: str, memory: str) -> dict[str, object]:
        return {"name": name, "attributes": {"vf": {"bool": name != "pf"}},
                "consumesCounters": [{"counterSet": "pf-memory",
                                      "counters": {"memory": {"value": memory}}}]}
    pool = {"name": "n1", "generation": 1, "resourceSliceCount": 2}
    return [{"spec": {"driver": DRIVER, "nodeName": "n1", "pool": pool, "sharedCounters": [
                {"name": "pf-memory", "counters": {"memory": {"value": "16Gi"}}}]}},
            {"spec": {"driver": DRIVER, "nodeName": "n1", "pool": pool, "devices": [
                device("pf", "16Gi"), device("vf0", "8Gi"), device("vf1", "8Gi")]}}]


def test_inventory_carries_shared_counters() -> None:
    pf = {d.name: d for d in from_slices(sriov_slices())}["pf"]
    assert pf.consumes == {"pf-memory": {"memory": Fraction(16 * 2**30)}}
    assert pf.counter_sets == {"pf-memory": {"memory": Fraction(16 * 2**30)}}


def test_shared_counters_keep_a_pf_and_its_vfs_apart() -> None:
    devices = from_slices(sriov_slices())
    two = ClaimModel((exactly(2),))
    found = allocate(two, devices)
    assert sorted(r.device.name for r in found.results or ()) == ["vf0", "vf1"]
    assert not allocate(ClaimModel((exactly(3),)), devices).satisfiable
    pf_in_use = {(DRIVER, "n1", "pf")}
    assert not allocate(ClaimModel((exactly(1),)), devices, used=pf_in_use).satisfiable
    by_name = {d.name: d for d in devices}
    problems = verify(two, [Result("r", by_name["pf"]), Result("r", by_name["vf0"])], devices)
    assert problems == [f"counter memory of n1/pf-memory: {24 * 2**30} drawn, {16 * 2**30} held"]


def test_all_mode_beyond_the_claim_limit_is_a_scheduler_error() -> None:
    many = [gpu(f"g{i:02d}", node="big") for i in range(33)] + [gpu("small", node="n1")]
    outcome = allocate(ClaimModel((exactly(all_devices=True),)), many)
    assert not outcome.satisfiable
    assert "matches 33 devices on big, more than the 32" in outcome.reason
    assert allocate(ClaimModel((exactly(all_devices=True),)), many[1:]).satisfiable

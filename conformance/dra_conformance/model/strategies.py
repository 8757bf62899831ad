"""Hypothesis strategies for claims built from a driver's real devices.

Selectors compare real attribute and capacity values of published devices (so they are
neither always true nor never true), counts run one past what exists (so unsatisfiable claims
appear), and constraints use attributes the devices share. Every attribute reference is
guarded with ``has()`` unless all devices carry it: an unguarded missing key is a CEL runtime
error, which is a different requirement (DRA-ALLOC-006) with its own test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from dra_conformance.model.cel import Quantity, Semver
from dra_conformance.model.claims import ClaimModel, Constraint, Exactly, Request
from dra_conformance.model.inventory import Device
from dra_conformance.model.quantity import format_quantity


def _reference(kind: str, qualified: str) -> str:
    domain, _, name = qualified.rpartition("/")
    return f'device.{kind}["{domain}"].{name}'


def _literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return None  # versions are left out of generated selectors


def _guarded(reference: str, test: str, universal: bool) -> str:
    return test if universal else f"has({reference}) && {test}"


@st.composite
def selectors(draw: st.DrawFn, devices: Sequence[Device]) -> str:
    """One CEL selector comparing a real attribute or capacity of one of ``devices``."""
    device = draw(st.sampled_from(devices))
    choices = [("attributes", k, v) for k, v in device.attributes.items()
               if _literal(v) is not None] + [("capacity", k, v)
                                              for k, v in device.capacity.items()]
    if not choices:
        return f'device.driver == "{device.driver}"'
    kind, name, value = draw(st.sampled_from(sorted(choices, key=lambda c: (c[0], c[1]))))
    reference = _reference(kind, name)
    table = getattr
    universal = all(name in table(d, kind) for d in devices)
    if isinstance(value, Quantity):
        op = draw(st.sampled_from([">=", "<=", "=="]))
        test = f'{reference}.compareTo(quantity("{format_quantity(value.value)}")) {op} 0'
    elif isinstance(value, int) and not isinstance(value, bool):
        op = draw(st.sampled_from(["==", "!=", ">=", "<", ">"]))
        test = f"{reference} {op} {value}"
    else:
        op = draw(st.sampled_from(["==", "!="]))
        test = f"{reference} {op} {_literal(value)}"
    return _guarded(reference, test, universal)


def _shared_attributes(devices: Sequence[Device]) -> list[str]:
    if not devices:
        return []
    names = set(devices[0].attributes)
    for device in devices[1:]:
        names &= set(device.attributes)
    return sorted(n for n in names if not isinstance(devices[0].attributes[n], Semver))


@st.composite
def exactly(draw: st.DrawFn, devices: Sequence[Device], name: str,
            device_class: str) -> Exactly:
    chosen = tuple(draw(st.lists(selectors(devices), max_size=2)))
    if draw(st.integers(0, 5)) == 0:
        return Exactly(name, device_class, chosen, all_devices=True)
    return Exactly(name, device_class, chosen, count=draw(st.integers(1, 3)))


def claims(devices: Sequence[Device], *, device_class: str, max_requests: int = 2,
           first_available: bool = True) -> st.SearchStrategy[ClaimModel]:
    """Claims over ``devices`` for the DeviceClass ``device_class``; arguments are checked
    at once, not when the first example is drawn."""
    if not devices:
        raise ValueError("claims() needs at least one device to draw selectors from")
    if max_requests < 1:
        raise ValueError(f"max_requests must be at least 1, got {max_requests}")
    return _claims(tuple(devices), device_class, max_requests, first_available)


@st.composite
def _claims(draw: st.DrawFn, devices: Sequence[Device], device_class: str, max_requests: int,
            first_available: bool) -> ClaimModel:
    count = draw(st.integers(1, max_requests))
    requests = []
    for index in range(count):
        name = f"r{index}"
        if first_available and draw(st.booleans()) and draw(st.booleans()):
            subs = tuple(draw(exactly(devices, f"s{i}", device_class)) for i in range(2))
            requests.append(Request(name, first_available=subs))
        else:
            requests.append(Request(name, exactly=draw(exactly(devices, name, device_class))))
    constraints: list[Constraint] = []
    shared = _shared_attributes(devices)
    constrained = draw(st.booleans())
    if shared and constrained:
        attribute = draw(st.sampled_from(shared))
        kind = draw(st.sampled_from(["match", "distinct"]))
        constraints.append(Constraint((), match_attribute=attribute if kind == "match" else None,
                                      distinct_attribute=attribute if kind == "distinct"
                                      else None))
    return ClaimModel(tuple(requests), tuple(constraints))

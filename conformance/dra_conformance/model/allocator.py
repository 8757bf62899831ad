"""What the DRA allocator must do with a claim: find devices, or show none exist.

``allocate`` is a plain backtracking search over the documented semantics: requests in order,
firstAvailable subrequests in preference order, ExactCount picks ``count`` unused matching
devices, All takes every matching device (and fails if one is in use), constraints hold across
the requests they name, every device of one claim is on one node, and the devices of a claim
(with those already in use) draw no shared counter beyond what its set holds. ``verify`` checks an
allocation the real scheduler made against the same rules. Neither knows how the scheduler
is written, which is the point.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dra_conformance.model.cel import CelRuntimeError, compile_expression
from dra_conformance.model.claims import ClaimModel, Constraint, Exactly
from dra_conformance.model.inventory import Device

BUDGET = 20_000  # search steps before the model gives up (the test then cannot judge)
MAX_RESULTS = 32  # devices one claim's allocation may hold (resource.k8s.io validation)


class ModelGaveUp(Exception):
    """The search space was too large to settle; the example cannot be judged."""


@dataclass(frozen=True)
class Result:
    request: str  # as in the API: "req" or "req/sub"
    device: Device


@dataclass(frozen=True)
class Outcome:
    results: tuple[Result, ...] | None
    reason: str = ""

    @property
    def satisfiable(self) -> bool:
        return self.results is not None


Matcher = Callable[[Device], bool]


def _matcher(spec: Exactly, class_selectors: Mapping[str, Sequence[str]]) -> Matcher:
    compiled = [compile_expression(s) for s in
                (*class_selectors.get(spec.device_class, ()), *spec.selectors)]

    def matches(device: Device) -> bool:
        env = {"device": device.cel()}
        for expression in compiled:
            value = expression(env)
            if not isinstance(value, bool):
                raise CelRuntimeError(f"selector returned {value!r}, not a bool")
            if not value:
                return False
        return True
    return matches


def allocate(claim: ClaimModel, devices: Sequence[Device], *,
             used: Iterable[tuple[str, str, str]] = (),
             class_selectors: Mapping[str, Sequence[str]] | None = None) -> Outcome:
    """An allocation for ``claim`` from ``devices`` not in ``used``, or why there is none."""
    classes = class_selectors or {}
    taken = set(used)
    nodes: list[str | None] = [*sorted({d.node for d in devices if d.node is not None})]
    nodes = nodes or [None]
    try:
        plans = [[(name, spec, _candidates(spec, devices, classes)) for name, spec in
                  request.alternatives()] for request in claim.requests]
    except CelRuntimeError as exc:
        return Outcome(None, f"CEL runtime error: {exc}")
    steps = [0]
    in_use = [d for d in devices if d.key in taken]
    too_many = _over_the_claim_limit(plans, nodes)
    if too_many:
        return Outcome(None, too_many)
    for node in nodes:
        local = [[(n, s, [d for d in c if d.node in (None, node)]) for n, s, c in alternatives]
                 for alternatives in plans]
        found = _search(local, claim.constraints, taken, [], steps, in_use=in_use)
        if found is not None:
            return Outcome(tuple(found))
    return Outcome(None, "no set of devices satisfies every request and constraint")


def _over_the_claim_limit(plans: list[list[tuple[str, Exactly, list[Device]]]],
                          nodes: Sequence[str | None]) -> str:
    """Why the scheduler fails the claim outright: an allocationMode All request matching
    more devices on some node than a claim may hold, which it reports as an error for the
    whole pod instead of moving on to another node ("" if none does). Behind
    firstAvailable the scheduler may never try that subrequest: the model gives up."""
    for alternatives in plans:
        for name, spec, candidates in alternatives:
            if not spec.all_devices:
                continue
            for node in nodes:
                count = len([d for d in candidates if d.node in (None, node)])
                if count <= MAX_RESULTS:
                    continue
                if len(alternatives) > 1:
                    raise ModelGaveUp(f"subrequest {name}: All would take {count} devices")
                return (f"request {name}: allocationMode All matches {count} devices on {node},"
                        f" more than the {MAX_RESULTS} a claim may hold")
    return ""


def in_class(devices: Sequence[Device], device_class: str,
             class_selectors: Mapping[str, Sequence[str]]) -> list[Device]:
    """The devices ``device_class`` selects (CelRuntimeError, ExpressionError as the model)."""
    return _candidates(Exactly("class", device_class), devices, class_selectors)


def _candidates(spec: Exactly, devices: Sequence[Device],
                classes: Mapping[str, Sequence[str]]) -> list[Device]:
    matches = _matcher(spec, classes)
    return [device for device in devices if matches(device)]


def _search(plans: list[list[tuple[str, Exactly, list[Device]]]],
            constraints: Sequence[Constraint], taken: set[tuple[str, str, str]],
            chosen: list[Result], steps: list[int], *,
            in_use: Sequence[Device] = ()) -> list[Result] | None:
    if not plans:
        return list(chosen)
    in_claim = {r.device.key for r in chosen}
    for name, spec, candidates in plans[0]:
        free = [d for d in candidates if d.key not in taken and d.key not in in_claim]
        if spec.all_devices:
            if not candidates or len(free) != len(candidates):
                continue
            options: Iterable[tuple[Device, ...]] = [tuple(free)]
        else:
            options = itertools.combinations(free, spec.count)
        for option in options:
            steps[0] += 1
            if steps[0] > BUDGET:
                raise ModelGaveUp(f"more than {BUDGET} candidate sets")
            attempt = chosen + [Result(name, device) for device in option]
            if _constraints_hold(constraints, attempt) and not counter_problems(
                    [*in_use, *(r.device for r in attempt)]):
                found = _search(plans[1:], constraints, taken, attempt, steps, in_use=in_use)
                if found is not None:
                    return found
    return None


def _applies(constraint: Constraint, request: str) -> bool:
    return not constraint.requests or request in constraint.requests or (
        request.partition("/")[0] in constraint.requests)


def _constraints_hold(constraints: Sequence[Constraint], results: Sequence[Result]) -> bool:
    return not constraint_problems(constraints, results)


def constraint_problems(constraints: Sequence[Constraint],
                        results: Sequence[Result]) -> list[str]:
    problems = []
    for constraint in constraints:
        devices = [r.device for r in results if _applies(constraint, r.request)]
        attribute = constraint.match_attribute or constraint.distinct_attribute
        if attribute is None or not devices:
            continue
        values: list[Any] = [d.attribute(attribute) for d in devices]
        if any(v is None for v in values):
            problems.append(f"a device lacks {attribute} named by a constraint")
        elif constraint.match_attribute and len(set(values)) > 1:
            problems.append(f"matchAttribute {attribute}: values {sorted(map(str, values))}")
        elif constraint.distinct_attribute and len(set(values)) < len(values):
            problems.append(f"distinctAttribute {attribute}: values {sorted(map(str, values))}")
    return problems


def counter_problems(devices: Iterable[Device]) -> list[str]:
    """Shared counters that ``devices``, allocated together, draw beyond what their set
    holds (a set the pool does not publish holds nothing)."""
    drawn: dict[tuple[str, str, str, str], Fraction] = {}
    held: dict[tuple[str, str, str, str], Fraction] = {}
    for device in devices:
        for counter_set, counters in device.consumes.items():
            for counter, amount in counters.items():
                key = (device.driver, device.pool, counter_set, counter)
                drawn[key] = drawn.get(key, Fraction(0)) + amount
                held[key] = device.counter_sets.get(counter_set, {}).get(counter, Fraction(0))
    return [f"counter {counter} of {pool}/{counter_set}: {drawn[key]} drawn, {held[key]} held"
            for key in sorted(drawn) if drawn[key] > held[key]
            for _, pool, counter_set, counter in (key,)]


def verify(claim: ClaimModel, results: Sequence[Result], devices: Sequence[Device], *,
           class_selectors: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """Every rule an allocation ``results`` of ``claim`` breaks (empty: it is valid)."""
    classes = class_selectors or {}
    problems = []
    keys = [r.device.key for r in results]
    if len(set(keys)) != len(keys):
        problems.append("a device is allocated twice in one claim")
    for request in claim.requests:
        mine = [r for r in results if r.request.partition("/")[0] == request.name]
        names = {r.request for r in mine}
        specs = dict(request.alternatives())
        if len(names) != 1 or next(iter(names)) not in specs:
            problems.append(f"request {request.name}: results for {sorted(names)}")
            continue
        spec = specs[next(iter(names))]
        matches = _matcher(spec, classes)
        wrong = [r.device.name for r in mine if not matches(r.device)]
        if wrong:
            problems.append(f"request {request.name}: {wrong} do not match its selectors")
        wanted = spec.count
        if spec.all_devices:  # every matching device available on the claim's node
            node = next((r.device.node for r in mine if r.device.node is not None), None)
            wanted = len([d for d in _candidates(spec, devices, classes)
                          if node is None or d.node in (None, node)])
        if len(mine) != wanted:
            problems.append(f"request {request.name}: {len(mine)} devices, want {wanted}")
    problems += constraint_problems(claim.constraints, results)
    problems += counter_problems(r.device for r in results)
    nodes = {r.device.node for r in results if r.device.node is not None}
    if len(nodes) > 1:
        problems.append(f"devices on several nodes: {sorted(nodes)}")
    return problems

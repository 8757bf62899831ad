"""From test outcomes to one verdict per requirement, and whether the driver is certified.

A requirement is proven by every test that names it. Any failing test fails it; a test that
did not run (no cluster, no socket, deselected) leaves it "not run", which is never a pass;
a requirement of a feature the driver does not claim, or one checked against the hardware
when the profile says the driver's devices are simulated, is "not applicable" whatever ran. A
requirement no test names yet is "not run" too, so gaps in the suite show in every report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from dra_conformance.features import Feature
from dra_conformance.requirements import CATALOGUE, Level, Requirement

NOT_APPLICABLE = "not applicable: "  # skip reasons starting so are verdicts, not gaps


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not applicable"
    NOT_RUN = "not run"


@dataclass
class TestRecord:
    """One test's outcome; ``outcome`` is passed, failed or skipped."""

    nodeid: str
    requirements: tuple[str, ...]
    outcome: str = "not run"
    reason: str = ""
    duration: float = 0.0
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RequirementVerdict:
    requirement: Requirement
    verdict: Verdict
    evidence: tuple[str, ...]
    duration: float
    tests: tuple[str, ...]


def judge(records: Iterable[TestRecord], features: frozenset[Feature],
          catalogue: Sequence[Requirement] = CATALOGUE, *,
          simulated: bool = False) -> list[RequirementVerdict]:
    """One verdict per catalogue entry, in catalogue order; ``simulated``: the profile says
    the driver's devices exist in software only."""
    by_requirement: dict[str, list[TestRecord]] = {}
    for record in records:
        for rid in record.requirements:
            by_requirement.setdefault(rid, []).append(record)
    return [_judge_one(r, by_requirement.get(r.id, []), features, simulated) for r in catalogue]


def not_applicable(requirement: Requirement, features: frozenset[Feature],
                   simulated: bool) -> str:
    """Why ``requirement`` does not apply to the driver ("" if it does)."""
    if requirement.feature is not None and requirement.feature not in features:
        return f"the driver profile does not claim feature {requirement.feature.value}"
    if requirement.hardware and simulated:
        return ("the driver profile says its devices are simulated (spec.devices): there is "
                "no hardware to check them against")
    return ""


def _judge_one(requirement: Requirement, records: list[TestRecord],
               features: frozenset[Feature], simulated: bool) -> RequirementVerdict:
    tests = tuple(record.nodeid for record in records)
    duration = sum(record.duration for record in records)
    if reason := not_applicable(requirement, features, simulated):
        return RequirementVerdict(requirement, Verdict.NOT_APPLICABLE, (reason,), duration,
                                  tests)
    if not records:
        return RequirementVerdict(requirement, Verdict.NOT_RUN,
                                  ("no test in this suite version proves it yet",), 0.0, ())
    failed = [r for r in records if r.outcome == "failed"]
    not_run = [r for r in records if r.outcome not in ("passed", "failed")]
    if failed:
        verdict, shown = Verdict.FAILED, failed
    elif not_run:
        verdict, shown = Verdict.NOT_RUN, not_run
    else:
        verdict, shown = Verdict.PASSED, records
    evidence = tuple(_evidence(record) for record in shown)
    return RequirementVerdict(requirement, verdict, evidence, duration, tests)


def _evidence(record: TestRecord) -> str:
    name = record.nodeid.rsplit("::", 1)[-1]
    if record.outcome == "passed":
        detail = "; ".join(record.evidence) or "passed"
    else:
        detail = record.reason or record.outcome
    return f"{name}: {detail}"


def certified(verdicts: Iterable[RequirementVerdict]) -> bool:
    """True when every applicable MUST passed: the only way to exit 0."""
    return all(v.verdict in (Verdict.PASSED, Verdict.NOT_APPLICABLE)
               for v in verdicts if v.requirement.level is Level.MUST)


def counts(verdicts: Iterable[RequirementVerdict]) -> dict[Verdict, int]:
    tally = dict.fromkeys(Verdict, 0)
    for verdict in verdicts:
        tally[verdict.verdict] += 1
    return tally

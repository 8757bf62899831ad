"""Everything a certification report states, in one value that every writer reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dra_conformance.verdicts import RequirementVerdict, TestRecord, Verdict, certified, counts


@dataclass(frozen=True)
class RunInfo:
    driver: str
    driver_version: str
    kubernetes_version: str
    hypothesis_seed: str
    command: str  # the exact command that reproduces this run
    started: str  # ISO 8601, UTC
    finished: str
    profile: str
    suite_version: str
    features: tuple[str, ...]
    devices: str = "hardware"  # or "simulated": the profile's spec.devices


@dataclass(frozen=True)
class Report:
    run: RunInfo
    verdicts: tuple[RequirementVerdict, ...]
    tests: tuple[TestRecord, ...]

    @property
    def certified(self) -> bool:
        return certified(self.verdicts)

    @property
    def counts(self) -> dict[Verdict, int]:
        return counts(self.verdicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "run": vars(self.run) | {"features": list(self.run.features)},
            "certified": self.certified,
            "counts": {verdict.value: n for verdict, n in self.counts.items()},
            "requirements": [{
                "id": v.requirement.id, "level": v.requirement.level.value,
                "tier": v.requirement.tier.value, "title": v.requirement.title,
                "source": {"kind": v.requirement.source.kind.value,
                           "where": v.requirement.source.where,
                           "anchor": v.requirement.source.anchor},
                "feature": v.requirement.feature.value if v.requirement.feature else None,
                "verdict": v.verdict.value, "evidence": list(v.evidence),
                "duration": round(v.duration, 3), "tests": list(v.tests)} for v in self.verdicts],
            "tests": [{"nodeid": t.nodeid, "requirements": list(t.requirements),
                       "outcome": t.outcome, "reason": t.reason,
                       "duration": round(t.duration, 3), "evidence": t.evidence}
                      for t in self.tests],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

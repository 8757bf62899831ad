"""report.md: the certification report as people read it in a pull request or a ticket."""

from __future__ import annotations

from dra_conformance.report.model import Report
from dra_conformance.verdicts import Verdict

ICONS = {Verdict.PASSED: "✅ passed", Verdict.FAILED: "❌ failed",
         Verdict.NOT_APPLICABLE: "n/a: not applicable", Verdict.NOT_RUN: "⏸ not run"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Report) -> str:
    run = report.run
    tally = report.counts
    outcome = "**CERTIFIED**" if report.certified else "**NOT CERTIFIED**"
    lines = [
        f"# DRA driver conformance: {run.driver}", "",
        f"{outcome}: {'every' if report.certified else 'not every'} applicable MUST "
        "requirement passed.", "",
        "| | |", "|---|---|",
        f"| Driver | `{run.driver}` {run.driver_version} |",
        f"| Kubernetes | {run.kubernetes_version} |",
        f"| Features claimed | {', '.join(run.features) or 'none'} |",
        f"| Devices | {run.devices} |",
        f"| Driver profile | `{run.profile}` |",
        f"| Hypothesis seed | `{run.hypothesis_seed}` |",
        f"| Suite | dra-conformance {run.suite_version} |",
        f"| Started / finished (UTC) | {run.started} / {run.finished} |",
        "", "Reproduce with:", "", "```sh", run.command, "```", "",
        " · ".join(f"{n} {verdict.value}" for verdict, n in tally.items()), "",
        "| Requirement | Level | Tier | Verdict | Duration | Title | Source | Evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in report.verdicts:
        r = v.requirement
        level = r.level.value + (f" ({r.feature.value})" if r.feature else "")
        lines.append(f"| {r.id} | {level} | {r.tier.value} | {ICONS[v.verdict]} | "
                     f"{v.duration:.2f} s | {_cell(r.title)} | {_cell(str(r.source))} | "
                     f"{_cell('<br>'.join(v.evidence))} |")
    return "\n".join(lines) + "\n"

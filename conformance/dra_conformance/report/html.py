"""report.html: the same report as one self-contained page (no scripts, no external files),
so it can be attached to a certification request and opened anywhere."""

from __future__ import annotations

from html import escape

from dra_conformance.report.model import Report
from dra_conformance.verdicts import RequirementVerdict

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f3f3}.passed{background:#e6f6e6}
.failed{background:#fbe3e3}.not-applicable{color:#777}.not-run{background:#fff7dd}
.banner{font-size:1.4em;padding:.5em;margin:1em 0}.yes{background:#cdeccd}.no{background:#f6c9c9}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}"""


def render(report: Report) -> str:
    run = report.run
    facts = [("Driver", f"{run.driver} {run.driver_version}"),
             ("Kubernetes", run.kubernetes_version),
             ("Features claimed", ", ".join(run.features) or "none"),
             ("Devices", run.devices),
             ("Driver profile", run.profile), ("Hypothesis seed", run.hypothesis_seed),
             ("Suite", f"dra-conformance {run.suite_version}"),
             ("Started / finished (UTC)", f"{run.started} / {run.finished}")]
    rows = "\n".join(_row(v.requirement.id, v) for v in report.verdicts)
    tally = " · ".join(f"{n} {verdict.value}" for verdict, n in report.counts.items())
    banner = ("yes", "CERTIFIED") if report.certified else ("no", "NOT CERTIFIED")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>DRA conformance: {escape(run.driver)}</title><style>{STYLE}</style></head><body>
<h1>DRA driver conformance: {escape(run.driver)}</h1>
<div class="banner {banner[0]}">{banner[1]}: every applicable MUST requirement must pass</div>
<table>{"".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)}</table>
<h2>Reproduce</h2><pre>{escape(run.command)}</pre>
<h2>Requirements</h2><p>{escape(tally)}</p>
<table><tr><th>Requirement</th><th>Level</th><th>Tier</th><th>Verdict</th><th>Duration</th>
<th>Title</th><th>Source</th><th>Evidence</th></tr>
{rows}
</table></body></html>
"""


def _row(rid: str, v: RequirementVerdict) -> str:
    r = v.requirement
    level = r.level.value + (f" ({r.feature.value})" if r.feature else "")
    css = v.verdict.value.replace(" ", "-")
    evidence = "<br>".join(escape(e) for e in v.evidence)
    return (f'<tr class="{css}"><td>{escape(rid)}</td><td>{escape(level)}</td>'
            f"<td>{r.tier.value}</td><td>{v.verdict.value}</td><td>{v.duration:.2f} s</td>"
            f"<td>{escape(r.title)}</td><td>{escape(str(r.source))}</td><td>{evidence}</td></tr>")


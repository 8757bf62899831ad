"""junit_01.xml as Sonobuoy and Hydrophone produce it: one suite, one testcase per test.

Test names carry their requirement IDs in brackets, the way upstream e2e names carry
``[sig-node]`` tags, so a plain junit viewer already shows what each test proves.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from dra_conformance.report.model import Report


def render(report: Report) -> str:
    tests = report.tests
    failures = sum(t.outcome == "failed" for t in tests)
    skipped = sum(t.outcome not in ("passed", "failed") for t in tests)
    suite = ET.Element("testsuite", name="DRA driver conformance", tests=str(len(tests)),
                       failures=str(failures), errors="0", skipped=str(skipped),
                       time=f"{sum(t.duration for t in tests):.3f}",
                       timestamp=report.run.started)
    properties = ET.SubElement(suite, "properties")
    for name in ("driver", "driver_version", "kubernetes_version", "hypothesis_seed",
                 "command"):
        ET.SubElement(properties, "property", name=name, value=str(getattr(report.run, name)))
    for test in tests:
        tags = "".join(f"[{rid}]" for rid in test.requirements)
        case = ET.SubElement(suite, "testcase", classname="dra-conformance",
                             name=f"{tags} {test.nodeid}".strip(), time=f"{test.duration:.3f}")
        if test.outcome == "failed":
            ET.SubElement(case, "failure", type="Failure",
                          message=test.reason.splitlines()[0] if test.reason else "failed"
                          ).text = test.reason
        elif test.outcome != "passed":
            ET.SubElement(case, "skipped", message=test.reason or test.outcome)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"

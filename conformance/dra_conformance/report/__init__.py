"""Results as certification processes expect them.

    model.py     the run's facts and verdicts, and report.json
    junit.py     junit_01.xml (one testcase per test, requirement IDs in the name)
    e2elog.py    e2e.log, written as tests finish, with a Ginkgo-style summary line
    markdown.py  report.md
    html.py      report.html, one self-contained page
    layout.py    where the files go (Hydrophone's flat output dir and Sonobuoy's tree)
"""

"""The pytest plugin: options, markers, requirement bookkeeping and the result files.

Registered through the ``pytest11`` entry point, so it is loaded by every pytest run in an
environment where fakehw is installed: it must cost nothing when unused. Heavy imports
(kubernetes, grpc, yaml, the report writers) happen only inside hooks that need them, and
only tests that carry ``@pytest.mark.requirement`` are touched.

Tests prove requirements by marker. A test whose requirements all belong to features the
driver profile does not claim is skipped as "not applicable"; other skips are "not run".
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

import pytest

from dra_conformance import settings as suite_settings
from dra_conformance.book import Book, reproduce_command
from dra_conformance.requirements import BY_ID
from dra_conformance.verdicts import NOT_APPLICABLE, not_applicable

if TYPE_CHECKING:
    from dra_conformance.profiles.model import DriverProfile

BOOK = pytest.StashKey[Book]()
MARKERS = (
    "requirement(*ids): the conformance requirement IDs this test proves",
    "socket: drives a DRA driver's sockets as the kubelet does",
    "cluster: needs a real Kubernetes cluster",
)
FIXTURES = "dra_conformance.fixtures"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from dra_conformance import hooks  # noqa: PLC0415

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    suite_settings.add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before hypothesis reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    settings = suite_settings.SuiteSettings.from_config(config)
    if settings.hypothesis_profile:
        from dra_conformance import hypothesis_profiles  # noqa: PLC0415

        try:
            hypothesis_profiles.load(settings.hypothesis_profile)
        except ValueError as exc:
            raise pytest.UsageError(f"--dra-hypothesis-profile: {exc}") from exc
    seed = config.getoption("hypothesis_seed", default=None)
    if seed is None and settings.report_dir is not None and hasattr(config.option,
                                                                   "hypothesis_seed"):
        seed = str(random.SystemRandom().randrange(2**32))  # a certification run is replayable
        config.option.hypothesis_seed = seed
    shown_seed = str(seed) if seed is not None else "random (pass --hypothesis-seed to fix it)"
    command = os.environ.get("DRA_REPRODUCE_COMMAND") or reproduce_command(
        list(config.invocation_params.args), shown_seed)
    book = Book(settings, _profile(settings), shown_seed, command)
    config.stash[BOOK] = book
    if settings.report_dir is not None:
        from dra_conformance.report.e2elog import E2ELog  # noqa: PLC0415
        from dra_conformance.report.layout import E2E_LOG  # noqa: PLC0415

        book.log = E2ELog(settings.report_dir / E2E_LOG)
        source = book.profile.source if book.profile else "none"
        book.log.line(f"DRA conformance run, driver profile {source}")
    config.pluginmanager.register(Recorder(book), f"dra-conformance-recorder-{id(config)}")
    if not config.pluginmanager.has_plugin(FIXTURES):
        config.pluginmanager.import_plugin(FIXTURES)


def _profile(settings: suite_settings.SuiteSettings) -> DriverProfile | None:
    if settings.profile is None and settings.driver is None:
        return None
    from dataclasses import replace  # noqa: PLC0415

    from dra_conformance import profiles  # noqa: PLC0415
    from dra_conformance.errors import ProfileError  # noqa: PLC0415

    if settings.profile is None:
        return profiles.minimal(str(settings.driver))
    try:
        profile = profiles.load(settings.profile)
    except ProfileError as exc:
        raise pytest.UsageError(f"--dra-profile: {exc}") from exc
    return replace(profile, driver=settings.driver) if settings.driver else profile


def pytest_sessionstart(session: pytest.Session) -> None:
    """Ask the cluster its version once, for the header and the report (``-q`` runs, as
    certify's, show no header)."""
    book = session.config.stash.get(BOOK, None)
    if book is not None and book.settings.active and book.settings.kubeconfig is not None:
        book.kubernetes_version = _kubernetes_version(str(book.settings.kubeconfig))


def pytest_report_header(config: pytest.Config) -> list[str]:
    book = config.stash.get(BOOK, None)
    if book is None or not book.settings.active:
        return []
    profile = book.profile
    driver = f"{profile.driver} {profile.version}" if profile else "none given"
    features = ", ".join(sorted(f.value for f in profile.features)) if profile else ""
    return [f"dra-conformance: driver {driver} (features: {features or 'none'})",
            f"dra-conformance: kubernetes {book.kubernetes_version}",
            f"dra-conformance: hypothesis seed {book.seed}"]


def _kubernetes_version(kubeconfig: str) -> str:
    try:
        from kubernetes import client, config  # noqa: PLC0415

        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig)
        info = client.VersionApi(api).get_code(_request_timeout=5)
        return str(info.git_version)
    except Exception as exc:  # the header must never break the run
        return f"unreachable ({type(exc).__name__})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    book = config.stash[BOOK]
    features = book.profile.features if book.profile else frozenset()
    simulated = bool(book.profile and book.profile.simulated_devices)
    for item in items:
        ids = tuple(rid for mark in item.iter_markers("requirement") for rid in mark.args)
        if not ids:
            continue
        unknown = [rid for rid in ids if rid not in BY_ID]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown requirement {unknown[0]}; "
                                    "add it to dra_conformance.requirements first")
        book.record(item.nodeid, ids)
        reasons = [not_applicable(BY_ID[rid], features, simulated) for rid in ids]
        if all(reasons):
            item.add_marker(pytest.mark.skip(
                reason=NOT_APPLICABLE + "; ".join(sorted(set(reasons)))))


class Recorder:
    """Per-session hooks that write test outcomes into the session's Book."""

    def __init__(self, book: Book) -> None:
        self.book = book

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            if item.nodeid in self.book.records:
                self.book.set_outcome(item.nodeid, "skipped", "not selected for this run")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        book = self.book
        record = book.records.get(report.nodeid)
        if record is None:
            return
        record.duration += report.duration
        if report.skipped:
            book.set_outcome(report.nodeid, "skipped", _skip_reason(report))
        elif report.failed:
            phase = "" if report.when == "call" else f"error in {report.when}: "
            book.set_outcome(report.nodeid, "failed", phase + _failure(report))
        elif report.when == "call":
            book.set_outcome(report.nodeid, "passed")
        if report.when == "teardown" and book.log is not None:
            book.log.test(record)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        book = self.book
        if book.settings.report_dir is None:
            return
        from dra_conformance.report import layout  # noqa: PLC0415

        report = book.report()
        if book.log is not None:
            book.log.summary(list(book.records.values()), len(book.records), report.certified)
            book.log.close()
        layout.write(report, book.settings.report_dir)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    return str(message) if message else report.longreprtext.strip().splitlines()[-1:][0]

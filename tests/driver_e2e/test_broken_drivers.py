"""The suite catches bugs in what a driver does to the node: broken copies of the reference
driver (``mutants.py``) run on a real node over fakehw, with its camera controller, and the
suite's test that must notice fails its requirement; the unbroken driver passes the same
test, so the catch is the bug's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fakehw.cluster.pytest_fixtures import SessionCluster
from tests.conformance.conftest import SuiteRun, suite_run
from tests.driver_e2e.conftest import (
    Cameras,
    RunningDriver,
    running_controller,
    running_driver,
    wait_until,
)
from tests.driver_e2e.mutants import MUTANTS, Mutant, patched_copy

pytestmark = pytest.mark.cluster
CAMERAS = "dra.fakehw.dev/publisher=camera-controller"  # the camera controller's slices
PROFILE = Path(__file__).resolve().parents[2] / "conformance/examples/reference-driver.yaml"


def certify(pytester: pytest.Pytester, cluster: SessionCluster, driver: RunningDriver,
            mutant: Mutant) -> SuiteRun:
    """The suite's tests for ``mutant`` against ``driver``, with fakehw's ground truth."""
    profile = yaml.safe_load(PROFILE.read_text())
    spec = profile["spec"]
    spec["deviceClasses"] = [mutant.device_class]  # the socket tier's claims use the first
    spec["nodes"] = [driver.node]
    spec["cdi"] = {"specDirs": [str(driver.cdi_dir)]}
    return suite_run(pytester, yaml.safe_dump(profile), "-m", mutant.tier, "-k", mutant.tests,
                     "--dra-kubeconfig", str(cluster.kubeconfig), "--dra-node", driver.node,
                     "--dra-fakehw-root", str(driver.tree),
                     "--dra-registration-socket", str(driver.registry_dir), harness=False)


@pytest.mark.parametrize("broken", [True, False], ids=["mutant", "faithful"])
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_the_suite_fails_the_mutant_and_passes_the_driver(
        name: str, broken: bool, pytester: pytest.Pytester, draref_cluster: SessionCluster,
        cameras: Cameras) -> None:
    mutant = MUTANTS[name]
    work = pytester.path.parent / f"{pytester.path.name}-driver"
    source = patched_copy(name, work / "src") if broken else None
    with running_driver(draref_cluster, cameras, work, source) as driver, \
            running_controller(driver, cameras, draref_cluster):
        wait_until(lambda: driver.kubectl.json(["get", "resourceslices", "-l", CAMERAS])["items"],
                   30, driver)
        run = certify(pytester, draref_cluster, driver, mutant)
    verdict = run.verdicts()[mutant.killed_by]
    evidence = run.evidence(mutant.killed_by)
    assert verdict == ("failed" if broken else "passed"), (verdict, evidence,
                                                           run.result.stdout.str()[-3000:])
    print(f"{name} ({'mutant' if broken else 'faithful'}): {mutant.killed_by} {verdict}:",
          *evidence, sep="\n  ")

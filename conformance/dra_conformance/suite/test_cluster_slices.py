"""ResourceSlices as the API server has them: present, consistent, owned by their node, and
steady while the driver restarts (the scheduler must not see devices vanish and return)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from dra_conformance import slices
from dra_conformance.claims.model import DeviceRef
from dra_conformance.profiles.model import DriverProfile

pytestmark = pytest.mark.cluster
Evidence = Callable[[str], None]
SETTLE_SECONDS = 5.0  # after the restart, time for a republish to show


def _pools(slices: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    pools: dict[str, list[dict[str, Any]]] = {}
    for item in slices:
        pools.setdefault(item["spec"]["pool"]["name"], []).append(item)
    return pools


@pytest.mark.requirement("DRA-SLICE-001")
def test_each_driver_node_has_slices(dra_slices: list[dict[str, Any]],
                                     dra_profile: DriverProfile, dra_evidence: Evidence) -> None:
    nodes = {s["spec"].get("nodeName") for s in dra_slices} - {None}
    dra_evidence(f"{len(dra_slices)} slices on nodes {sorted(nodes)}")
    assert nodes, "no node-local ResourceSlices"
    missing = set(dra_profile.nodes) - nodes
    assert not missing, f"nodes of the profile without slices: {sorted(missing)}"


@pytest.mark.requirement("DRA-SLICE-002")
def test_pools_are_complete_and_consistent(dra_slices: list[dict[str, Any]],
                                           dra_evidence: Evidence) -> None:
    problems = []
    for pool, members in _pools(dra_slices).items():
        generation = max(m["spec"]["pool"]["generation"] for m in members)
        current = [m for m in members if m["spec"]["pool"]["generation"] == generation]
        wanted = {m["spec"]["pool"]["resourceSliceCount"] for m in current}
        if wanted != {len(current)}:
            problems.append(f"pool {pool}: {len(current)} slices, resourceSliceCount {wanted}")
        names = Counter(d["name"] for m in current for d in m["spec"].get("devices") or ())
        twice = [name for name, n in names.items() if n > 1]
        if twice:
            problems.append(f"pool {pool}: devices listed twice: {twice}")
    dra_evidence(f"{len(_pools(dra_slices))} pools checked")
    assert not problems, "; ".join(problems)


@pytest.mark.requirement("DRA-SLICE-003")
def test_node_local_slices_are_owned_by_their_node(dra_slices: list[dict[str, Any]],
                                                   dra_evidence: Evidence) -> None:
    unowned = [s["metadata"]["name"] for s in dra_slices if s["spec"].get("nodeName") and not
               any(o.get("kind") == "Node" and o.get("name") == s["spec"]["nodeName"]
                   for o in s["metadata"].get("ownerReferences") or ())]
    dra_evidence(f"slices without their Node as owner: {unowned}")
    assert not unowned


@pytest.mark.requirement("DRA-SLICE-007")
def test_node_local_pools_are_named_after_their_node(dra_slices: list[dict[str, Any]],
                                                     dra_evidence: Evidence) -> None:
    odd = sorted({(s["spec"]["pool"]["name"], s["spec"]["nodeName"]) for s in dra_slices
                  if s["spec"].get("nodeName")
                  and s["spec"]["pool"]["name"] != s["spec"]["nodeName"]})
    dra_evidence(f"pools not named after their node: {odd}")
    assert not odd


@pytest.mark.requirement("DRA-SLICE-004")
def test_slices_keep_their_devices_across_a_restart(
        dra_api_client: Any, dra_profile: DriverProfile, dra_node: str | None,
        dra_restart: Callable[[], None], dra_evidence: Evidence) -> None:
    if dra_node is None:
        pytest.skip("needs the node whose driver restartCommand restarts: pass --dra-node")

    def published() -> frozenset[DeviceRef]:
        return frozenset(slices.devices(slices.fetch(dra_api_client, dra_profile.driver),
                                        dra_node))
    before = published()
    seen: list[frozenset[DeviceRef]] = []
    stop = threading.Event()

    def watch() -> None:  # what the scheduler could have seen while the driver restarted
        while not stop.wait(0.3):
            seen.append(published())
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        dra_restart()
        time.sleep(SETTLE_SECONDS)
    finally:
        stop.set()
        watcher.join()
    changed = [sorted(d.device for d in s) for s in dict.fromkeys(seen) if s != before]
    dra_evidence(f"{len(before)} devices of {dra_node}; {len(seen)} reads during and after "
                 f"the restart; differing sets: {changed}")
    assert before, f"the driver publishes no devices on {dra_node}"
    assert not changed, f"while the driver restarted its devices changed to {changed}"


SLICES_PATH = "/apis/resource.k8s.io/v1/resourceslices"


@pytest.mark.requirement("DRA-SLICE-005")
def test_the_driver_may_write_only_its_own_nodes_slices(
        dra_api_client: Any, dra_profile: DriverProfile, dra_node: str | None,
        dra_slices: list[dict[str, Any]], dra_evidence: Evidence) -> None:
    """Acting as the driver's component on the node under test (spec.nodeIdentity), the
    suite asks with dry-run requests: creating a slice of its own node must be allowed (so
    the identity is one that publishes), and creating, changing or deleting another node's
    slice must be refused, by RBAC or by admission."""
    if dra_profile.node_identity is None:
        pytest.skip("needs the identity the driver writes slices with: set spec.nodeIdentity")
    if dra_node is None:
        pytest.skip("needs the node under test: pass --dra-node")
    from kubernetes import client  # noqa: PLC0415

    from dra_conformance.kube.impersonation import dry_run  # noqa: PLC0415

    identity = dra_profile.node_identity.on(dra_node)
    listed: Any = client.CoreV1Api(dra_api_client).list_node()
    names = [str(n.metadata.name) for n in listed.items]
    other = next((n for n in names if n != dra_node), "dra-conformance-no-such-node")
    driver = dra_profile.driver
    answers = {
        f"create a slice of {dra_node}": dry_run(
            dra_api_client, identity, "POST", SLICES_PATH, _probe(driver, dra_node)),
        f"create a slice of {other}": dry_run(
            dra_api_client, identity, "POST", SLICES_PATH, _probe(driver, other)),
    }
    theirs = next((s for s in dra_slices if s["spec"].get("nodeName") == other), None)
    if theirs is not None:
        name = theirs["metadata"]["name"]
        changed = {**theirs, "metadata": {**theirs["metadata"], "labels": {
            **(theirs["metadata"].get("labels") or {}), "dra-conformance/probe": "true"}}}
        answers[f"update {other}'s slice {name}"] = dry_run(
            dra_api_client, identity, "PUT", f"{SLICES_PATH}/{name}", changed)
        answers[f"delete {other}'s slice {name}"] = dry_run(
            dra_api_client, identity, "DELETE", f"{SLICES_PATH}/{name}")
    dra_evidence(f"as {identity.user} {dict(identity.extra)}: "
                 + "; ".join(f"{what}: {answer}" for what, answer in answers.items()))
    own, *foreign = answers.items()
    assert own[1].allowed, (
        f"spec.nodeIdentity may not {own[0]} ({own[1]}): it is not the identity the driver "
        "publishes with, or its RBAC lacks create on resourceslices")
    allowed = [what for what, answer in foreign if answer.allowed]
    assert not allowed, f"the driver's identity on {dra_node} may {', '.join(allowed)}"


def _probe(driver: str, node: str) -> dict[str, Any]:
    """A slice the dry runs offer to create: of ``driver``, in a pool of ``node``'s own."""
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
            "metadata": {"name": f"dra-conformance-probe-{node}"[:253]},
            "spec": {"driver": driver, "nodeName": node, "devices": [],
                     "pool": {"name": node, "generation": 1, "resourceSliceCount": 1}}}

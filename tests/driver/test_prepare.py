"""NodePrepareResources / NodeUnprepareResources over the socket, v1 and v1beta1."""

from __future__ import annotations

import json

import pytest
from dra_reference.plugin.memory import Config, Result, resource_claim

from .conftest import DRIVER, NODE, Plugin, devices_of

pytestmark = pytest.mark.socket
VERSIONS = pytest.mark.parametrize("version", ["v1", "v1beta1"])
UID = "0b7f1d2c-6a3e-4c1f-9d55-1f0e8a7c3b21"  # real UIDs often start with a digit


@VERSIONS
def test_prepare_returns_cdi_ids_and_writes_the_spec(plugin: Plugin, version: str) -> None:
    claim = plugin.add_claim("pod-gpu", UID, devices=["gpu-0", "gpu-1"])
    response = plugin.kubelet.prepare(claim, version=version)
    cdi = [f"fakehw.dev/gpu={UID}-gpu-0", f"fakehw.dev/gpu={UID}-gpu-1"]
    assert [d[:4] for d in devices_of(response, UID)] == [
        (("gpu",), NODE, "gpu-0", (cdi[0],)), (("gpu",), NODE, "gpu-1", (cdi[1],))]
    spec = json.loads((plugin.cdi_dir / f"fakehw.dev-gpu_{UID}.json").read_text())
    assert spec["kind"] == "fakehw.dev/gpu"
    assert spec["cdiVersion"] == "0.5.0"  # a device name starting with a digit needs 0.5.0
    assert [d["name"] for d in spec["devices"]] == [f"{UID}-gpu-0", f"{UID}-gpu-1"]
    assert spec["devices"][0]["containerEdits"]["deviceNodes"] == [
        {"path": "/dev/fake/gpu-0", "type": "c", "major": 10, "minor": 200,
         "permissions": "rw"}]


@VERSIONS
def test_unprepare_removes_the_spec_and_calls_the_preparer(plugin: Plugin,
                                                           version: str) -> None:
    claim = plugin.add_claim("pod-gpu", UID)
    plugin.kubelet.prepare(claim, version=version)
    response = plugin.kubelet.unprepare(claim, version=version)
    assert response.claims[UID].error == ""
    assert plugin.cdi_files() == []
    [entry] = plugin.preparer.unprepared
    assert entry.claim.uid == UID
    assert entry.devices[0].prepared.undo == {"reset": "gpu-0"}
    assert json.loads(plugin.checkpoint_path.read_text())["claims"] == {}


@VERSIONS
def test_second_prepare_is_answered_from_the_checkpoint(plugin: Plugin, version: str) -> None:
    claim = plugin.add_claim("pod-gpu", UID, devices=["gpu-0", "gpu-3"])
    first = devices_of(plugin.kubelet.prepare(claim, version=version), UID)
    reads = plugin.claims.reads
    second = devices_of(plugin.kubelet.prepare(claim, version=version), UID)
    assert first == second
    assert plugin.preparer.prepared_uids() == [UID]
    assert plugin.claims.reads == reads  # not even the API server was asked again


def test_subrequest_suffix_is_stripped_and_share_id_is_v1_only(plugin: Plugin) -> None:
    plugin.claims.put(resource_claim("default", "shared", UID, [
        Result("gpu/large", DRIVER, NODE, "gpu-0", share_id="5f2b0c1e")]))
    claim = ("default", "shared", UID)
    v1 = devices_of(plugin.kubelet.prepare(claim, version="v1"), UID)
    v1beta1 = devices_of(plugin.kubelet.prepare(claim, version="v1beta1"), UID)
    assert v1[0][0] == ("gpu",)
    assert v1[0][4] == "5f2b0c1e"
    assert v1beta1[0][0] == ("gpu",)
    assert v1beta1[0][4] is None
    [request] = plugin.preparer.prepared
    assert request.devices[0].subrequest == "large"


def test_results_of_other_drivers_are_ignored(plugin: Plugin) -> None:
    plugin.claims.put(resource_claim("default", "mixed", UID, [
        Result("nic", "nic.example.com", NODE, "eth1"),
        Result("gpu", DRIVER, NODE, "gpu-2"),
    ], configs=[Config("FromClaim", "nic.example.com", {"MTU": "9000"})]))
    devices = devices_of(plugin.kubelet.prepare(("default", "mixed", UID)), UID)
    assert [d[2] for d in devices] == ["gpu-2"]
    [request] = plugin.preparer.prepared
    assert [d.device for d in request.devices] == ["gpu-2"]
    assert request.devices[0].parameters == {}


def test_class_and_claim_parameters_both_arrive_and_the_claim_wins(plugin: Plugin) -> None:
    plugin.claims.put(resource_claim("default", "cfg", UID, [
        Result("gpu", DRIVER, NODE, "gpu-0"), Result("other", DRIVER, NODE, "gpu-1"),
    ], configs=[
        Config("FromClaim", DRIVER, {"MODE": "claim", "ONLY_CLAIM": "1"}, ("gpu",)),
        Config("FromClass", DRIVER, {"MODE": "class", "ONLY_CLASS": "1"}),
    ]))
    plugin.kubelet.prepare(("default", "cfg", UID))
    [request] = plugin.preparer.prepared
    gpu, other = request.devices
    assert gpu.parameters == {"MODE": "claim", "ONLY_CLAIM": "1", "ONLY_CLASS": "1"}
    assert [c.source for c in gpu.configs] == ["FromClass", "FromClaim"]
    assert other.parameters == {"MODE": "class", "ONLY_CLASS": "1"}
    spec = json.loads(plugin.cdi_dir.joinpath(plugin.cdi_files()[0]).read_text())
    assert "MODE=claim" in spec["devices"][0]["containerEdits"]["env"]


@VERSIONS
def test_a_replaced_claim_is_refused(plugin: Plugin, version: str) -> None:
    plugin.add_claim("pod-gpu", "uid-new")
    response = plugin.kubelet.prepare(("default", "pod-gpu", "uid-old"), version=version)
    error = response.claims["uid-old"].error
    assert "replaced" in error
    assert "uid-new" in error
    assert "[permanent]" in error
    assert plugin.preparer.prepared == []
    assert plugin.cdi_files() == []


def test_a_replaced_claim_never_gets_the_old_preparation(plugin: Plugin) -> None:
    old = plugin.add_claim("pod-gpu", "uid-old", devices=["gpu-0"])
    plugin.kubelet.prepare(old)
    new = plugin.add_claim("pod-gpu", "uid-new", devices=["gpu-1"])
    devices = devices_of(plugin.kubelet.prepare(new), "uid-new")
    assert [d[2] for d in devices] == ["gpu-1"]
    assert plugin.preparer.prepared_uids() == ["uid-old", "uid-new"]


@VERSIONS
def test_an_unallocated_claim_is_refused(plugin: Plugin, version: str) -> None:
    plugin.claims.put(resource_claim("default", "pending", UID, results=None))
    error = plugin.kubelet.prepare(("default", "pending", UID), version=version).claims[UID].error
    assert "not allocated" in error
    assert "[retryable]" in error
    assert plugin.preparer.prepared == []


def test_a_missing_claim_is_refused(plugin: Plugin) -> None:
    error = plugin.kubelet.prepare(("default", "ghost", UID)).claims[UID].error
    assert "does not exist" in error


@VERSIONS
def test_one_bad_claim_does_not_fail_the_others(plugin: Plugin, version: str) -> None:
    good = plugin.add_claim("good", "uid-good", devices=["gpu-0"])
    burning = plugin.add_claim("burning", "uid-burning", devices=["gpu-9"])
    plugin.preparer.failing.add("gpu-9")
    replaced = ("default", "good", "uid-replaced")
    response = plugin.kubelet.prepare(burning, replaced, good, ("", "", ""), version=version)
    assert set(response.claims) == {"uid-good", "uid-burning", "uid-replaced", ""}
    assert devices_of(response, "uid-good")[0][2] == "gpu-0"
    assert "device gpu-9 is on fire" in response.claims["uid-burning"].error
    assert "replaced" in response.claims["uid-replaced"].error
    assert "missing namespace, uid, name" in response.claims[""].error


def test_a_failed_prepare_is_rolled_back_and_retried_cleanly(plugin: Plugin) -> None:
    claim = plugin.add_claim("pod-gpu", UID, devices=["gpu-0", "gpu-9"])
    plugin.preparer.failing.add("gpu-9")
    error = plugin.kubelet.prepare(claim).claims[UID].error
    assert "RuntimeError: device gpu-9 is on fire" in error
    assert "[retryable]" in error
    [rolled_back] = plugin.preparer.rolled_back
    assert [d.device for d in rolled_back.allocated] == ["gpu-0", "gpu-9"]
    assert plugin.cdi_files() == []
    assert json.loads(plugin.checkpoint_path.read_text())["claims"] == {}
    plugin.preparer.failing.clear()
    assert len(devices_of(plugin.kubelet.prepare(claim), UID)) == 2


def test_a_failed_rollback_leaves_the_claim_for_later(plugin: Plugin) -> None:
    claim = plugin.add_claim("pod-gpu", UID, devices=["gpu-9"])
    plugin.preparer.failing.add("gpu-9")
    plugin.preparer.broken_rollback = True
    assert "on fire" in plugin.kubelet.prepare(claim).claims[UID].error
    entry = json.loads(plugin.checkpoint_path.read_text())["claims"][UID]
    assert entry["status"] == "preparing"
    plugin.preparer.failing.clear()
    plugin.preparer.broken_rollback = False
    assert devices_of(plugin.kubelet.prepare(claim), UID)
    assert len(plugin.preparer.rolled_back) == 2  # the leftover was rolled back first


@VERSIONS
def test_unprepare_of_an_unknown_claim_succeeds(plugin: Plugin, version: str) -> None:
    response = plugin.kubelet.unprepare(("default", "never", "uid-never"), version=version)
    assert response.claims["uid-never"].error == ""
    assert plugin.preparer.unprepared == []


def test_unprepare_twice_succeeds_and_undoes_once(plugin: Plugin) -> None:
    claim = plugin.add_claim("pod-gpu", UID)
    plugin.kubelet.prepare(claim)
    assert plugin.kubelet.unprepare(claim).claims[UID].error == ""
    assert plugin.kubelet.unprepare(claim).claims[UID].error == ""
    assert len(plugin.preparer.unprepared) == 1


@pytest.mark.parametrize(("claim", "expected"), [
    (("", "name", "uid-1"), "missing namespace"),
    (("ns", "", "uid-1"), "missing name"),
    (("ns", "name", ""), "missing uid"),
    (("ns", "name", "../../etc/passwd"), "characters a Kubernetes UID never has"),
    (("ns", "name", "uid with spaces"), "characters a Kubernetes UID never has"),
])
@pytest.mark.parametrize("verb", ["prepare", "unprepare"])
def test_garbage_claims_get_a_clear_error(plugin: Plugin, claim: tuple[str, str, str],
                                          expected: str, verb: str) -> None:
    response = getattr(plugin.kubelet, verb)(claim)
    error = response.claims[claim[2]].error
    assert expected in error
    assert "[permanent]" in error
    assert not list(plugin.root.rglob("passwd"))


def test_an_empty_request_gets_an_empty_answer(plugin: Plugin) -> None:
    assert len(plugin.kubelet.prepare().claims) == 0
    assert len(plugin.kubelet.unprepare().claims) == 0


def test_a_claim_without_devices_for_this_driver_prepares_to_nothing(plugin: Plugin) -> None:
    plugin.claims.put(resource_claim("default", "elsewhere", UID,
                                     [Result("nic", "nic.example.com", NODE, "eth1")]))
    response = plugin.kubelet.prepare(("default", "elsewhere", UID))
    assert devices_of(response, UID) == []
    assert plugin.cdi_files() == []


def test_a_bug_in_the_plugin_layer_reaches_the_test(plugin: Plugin) -> None:
    """A Preparer returning garbage trips the plugin itself: the claim fails, and the
    exception is re-raised to the owner instead of vanishing in a gRPC thread."""
    claim = plugin.add_claim("pod-gpu", UID)
    plugin.preparer.prepare = lambda request: ["not a PreparedDevice"]  # type: ignore[method-assign]
    error = plugin.kubelet.prepare(claim).claims[UID].error
    assert "internal error in the driver: AttributeError" in error
    with pytest.raises(AttributeError, match="allocated"):
        plugin.server.raise_thread_errors()

"""From a ResourceClaim (the API server's JSON) to this driver's devices."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dra_reference.errors import (
    ClaimFetchError,
    ClaimNotAllocatedError,
    ClaimNotFoundError,
    ClaimReplacedError,
)
from dra_reference.plugin.claims import KubeClaimSource, allocated_devices
from dra_reference.plugin.memory import Config, Result, resource_claim
from dra_reference.plugin.model import ClaimRef
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, ReadTimeoutError

pytestmark = pytest.mark.unit
DRIVER = "gpu.fakehw.dev"
REF = ClaimRef("ns", "c", "uid-1")


def test_results_configs_and_subrequests() -> None:
    claim = resource_claim("ns", "c", "uid-1", [
        Result("gpu/big", DRIVER, "node-a", "gpu-0"),
        Result("gpu/big", "other.example.com", "node-a", "x"),
        Result("aux", DRIVER, "node-a", "gpu-1"),
    ], configs=[
        Config("FromClaim", DRIVER, {"K": "claim-main"}, ("gpu",)),
        Config("FromClaim", DRIVER, {"K": "claim-sub", "S": "1"}, ("gpu/big",)),
        Config("FromClass", DRIVER, {"K": "class", "C": "1"}),
        Config("FromClaim", "other.example.com", {"K": "other"}),
    ])
    gpu, aux = allocated_devices(claim, REF, DRIVER)
    assert (gpu.request, gpu.subrequest, gpu.device) == ("gpu", "big", "gpu-0")
    assert gpu.parameters == {"K": "claim-sub", "S": "1", "C": "1"}
    assert (aux.request, aux.subrequest) == ("aux", "")
    assert aux.parameters == {"K": "class", "C": "1"}


def test_uid_and_allocation_are_checked() -> None:
    with pytest.raises(ClaimReplacedError, match="replaced"):
        allocated_devices(resource_claim("ns", "c", "uid-2", []), REF, DRIVER)
    with pytest.raises(ClaimNotAllocatedError):
        allocated_devices(resource_claim("ns", "c", "uid-1", None), REF, DRIVER)


class FakeResourceApi:
    """Stands in for ResourceV1Api: answers, or raises what the real one raises."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls: list[dict[str, Any]] = []

    def read_namespaced_resource_claim(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class RawResponse:
    """What the client returns with ``_preload_content=False``: the body, unparsed."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def test_kube_claim_source_reads_the_json_with_a_timeout() -> None:
    claim = resource_claim("ns", "c", "uid-1", [])
    api = FakeResourceApi(RawResponse(json.dumps(claim).encode()))
    assert KubeClaimSource(api, timeout_seconds=3).get("ns", "c") == claim  # type: ignore[arg-type]
    assert api.calls == [{"name": "c", "namespace": "ns", "_request_timeout": 3,
                          "_preload_content": False}]


def test_an_answer_that_is_not_json_is_a_fetch_error() -> None:
    api = FakeResourceApi(RawResponse(b"<html>proxy error</html>"))
    with pytest.raises(ClaimFetchError, match="not JSON"):
        KubeClaimSource(api).get("ns", "c")  # type: ignore[arg-type]


@pytest.mark.parametrize(("raised", "expected"), [
    (ApiException(status=404, reason="Not Found"), ClaimNotFoundError),
    (ApiException(status=500, reason="Internal"), ClaimFetchError),
    (ApiException(status=429, reason="Too Many Requests"), ClaimFetchError),
    (ApiException(status=0, reason="SSL: certificate verify failed"), ClaimFetchError),
    (MaxRetryError(None, "/apis/resource.k8s.io/v1", "connection refused"),  # type: ignore[arg-type]
     ClaimFetchError),
    (ReadTimeoutError(None, "/apis", "read timed out"), ClaimFetchError),  # type: ignore[arg-type]
    (ConnectionRefusedError("refused"), ClaimFetchError),
])
def test_kube_claim_source_errors(raised: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected, match="ns/c"):
        KubeClaimSource(FakeResourceApi(raised)).get("ns", "c")  # type: ignore[arg-type]
    assert expected.retryable is (expected is ClaimFetchError)

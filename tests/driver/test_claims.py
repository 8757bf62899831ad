"""From a ResourceClaim (the API server's JSON) to this driver's devices."""

from __future__ import annotations

from typing import Any

import pytest
from dra_reference.errors import (
    ClaimFetchError,
    ClaimNotAllocatedError,
    ClaimNotFoundError,
    ClaimReplacedError,
)
from dra_reference.kube import ApiError
from dra_reference.plugin.claims import KubeClaimSource, allocated_devices
from dra_reference.plugin.memory import Config, Result, resource_claim
from dra_reference.plugin.model import ClaimRef
from urllib3.exceptions import MaxRetryError, ReadTimeoutError, SSLError

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


class FakeKubeAPI:
    """Stands in for ``KubeAPI.get``: answers, or raises what the real one raises."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, **kwargs: Any) -> Any:
        self.calls.append((path, kwargs))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_kube_claim_source_reads_the_claim_with_a_timeout() -> None:
    claim = resource_claim("ns", "c", "uid-1", [])
    api = FakeKubeAPI(claim)
    assert KubeClaimSource(api, timeout_seconds=3).get("ns", "c") == claim  # type: ignore[arg-type]
    assert api.calls == [("/apis/resource.k8s.io/v1/namespaces/ns/resourceclaims/c",
                          {"timeout": 3})]


@pytest.mark.parametrize(("raised", "expected"), [
    (ApiError(404, "Not Found"), ClaimNotFoundError),
    (ApiError(500, "Internal"), ClaimFetchError),
    (ApiError(429, "Too Many Requests"), ClaimFetchError),
    (ApiError(200, "the answer is not JSON"), ClaimFetchError),
    (SSLError("certificate verify failed"), ClaimFetchError),
    (MaxRetryError(None, "/apis/resource.k8s.io/v1", "connection refused"),  # type: ignore[arg-type]
     ClaimFetchError),
    (ReadTimeoutError(None, "/apis", "read timed out"), ClaimFetchError),  # type: ignore[arg-type]
    (ConnectionRefusedError("refused"), ClaimFetchError),
])
def test_kube_claim_source_errors(raised: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected, match="ns/c"):
        KubeClaimSource(FakeKubeAPI(raised)).get("ns", "c")  # type: ignore[arg-type]
    assert expected.retryable is (expected is ClaimFetchError)

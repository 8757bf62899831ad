"""Opaque configuration: the claim's reaches the devices, and it overrides the class's.

What a configuration does is the driver's business, so the profile says how to see it: the
parameters to send and the environment the prepared devices' CDI edits must then carry.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dra_conformance.cdi import CdiRegistry
from dra_conformance.claims.model import OpaqueConfig
from dra_conformance.profiles.model import ConfigProbe
from dra_conformance.suite.conftest import SocketTier

pytestmark = pytest.mark.socket


@pytest.fixture
def probe(sock: SocketTier) -> ConfigProbe:
    if sock.profile.config is None:
        pytest.skip("the profile has no spec.config saying how configuration shows")
    return sock.profile.config


def prepared_env(sock: SocketTier, cdi: CdiRegistry,
                 configs: Sequence[OpaqueConfig]) -> dict[str, str]:
    ref = sock.claim(configs=configs)
    result = sock.prepare(ref)
    assert result.error == "", f"prepare of {ref} failed: {result.error}"
    return cdi.refresh().env(i for d in result.devices for i in d.cdi_ids)


@pytest.mark.requirement("DRA-CONF-001")
def test_claim_config_reaches_the_devices(sock: SocketTier, dra_cdi: CdiRegistry,
                                          probe: ConfigProbe) -> None:
    env = prepared_env(sock, dra_cdi, [OpaqueConfig(sock.driver, probe.parameters)])
    wanted = {k: env.get(k) for k in probe.expect_env}
    sock.evidence(f"expected {probe.expect_env}, CDI edits carry {wanted}")
    assert wanted == probe.expect_env, "the claim's configuration did not reach the devices"


@pytest.mark.requirement("DRA-CONF-002")
def test_claim_config_overrides_class_config(sock: SocketTier, dra_cdi: CdiRegistry,
                                             probe: ConfigProbe) -> None:
    if probe.class_parameters is None:
        pytest.skip("the profile has no spec.config.classParameters to set on the class")
    env = prepared_env(sock, dra_cdi, [
        OpaqueConfig(sock.driver, probe.class_parameters, "FromClass"),
        OpaqueConfig(sock.driver, probe.parameters, "FromClaim")])
    wanted = {k: env.get(k) for k in probe.expect_env}
    sock.evidence(f"class and claim config; expected the claim's {probe.expect_env}, "
                  f"got {wanted}")
    assert wanted == probe.expect_env, "the class's configuration won over the claim's"


UNKNOWN_FIELD = "conformanceUnknownField"  # no driver's configuration type has it


@pytest.mark.requirement("DRA-CONF-003")
def test_a_config_with_an_unknown_field_is_refused(sock: SocketTier,
                                                   probe: ConfigProbe) -> None:
    """A misspelt setting silently ignored runs the workload with settings nobody asked for;
    the claim must not be prepared, so its pod shows the driver's error instead."""
    parameters = {**probe.parameters, UNKNOWN_FIELD: "x"}
    how = sock.refusal(sock.claim(configs=[OpaqueConfig(sock.driver, parameters)]))
    sock.evidence(f"the profile's parameters plus {UNKNOWN_FIELD}: {how}")

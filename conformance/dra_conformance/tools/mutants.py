"""Broken drivers, one realistic bug each, made from a working driver by the proxy (proxy.py).

A mutant is what a driver author gets wrong, written as a change to what the driver says on
its sockets or leaves on the node. Each names the requirement that must kill it: pointed at a
mutant of a driver that passes, the suite must fail that requirement. The project's own tests
run every mutant against the reference driver (``tests/conformance/test_mutants.py``); the
table in the README is ``python -m dra_conformance.tools.mutants``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import grpc

Forward = Callable[[Any], Any]  # the call to the real driver, with a (possibly new) request


class Abort(Exception):
    """Raised by a hook: the proxy answers the call with this gRPC status."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


@dataclass
class Mutant:
    """No bug at all: every hook passes the call through. Subclasses override one hook."""

    name: ClassVar[str] = ""
    bug: ClassVar[str] = ""  # what the broken driver does
    killed_by: ClassVar[str] = ""  # the requirement that must fail
    context: Any = None  # the proxy, for mutants that touch spec files
    state: dict[str, Any] = field(default_factory=dict)  # what a mutant remembers
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get_info(self, info: Any) -> Any:
        return info

    def notify(self, request: Any, forward: Forward, context: grpc.ServicerContext) -> Any:
        return forward(request)

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        return forward(request)

    def unprepare(self, request: Any, forward: Forward, version: str) -> Any:
        return forward(request)

    def health(self, message: Any) -> Any:
        return message


# -- what is prepared -----------------------------------------------------------------------

class DeviceMutant(Mutant):
    """A bug in how each prepared device is answered: ``change`` alters one device."""

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        if self.applies(version):
            for entry in response.claims.values():
                for device in entry.devices:
                    self.change(device)
        return response

    def applies(self, version: str) -> bool:
        return True

    def change(self, device: Any) -> None:
        raise NotImplementedError


class DropCdiIds(DeviceMutant):
    name, killed_by = "drop-cdi-ids", "DRA-PREP-001"
    bug = "prepare answers carry no CDI device IDs: the runtime injects nothing"

    def change(self, device: Any) -> None:
        del device.cdi_device_ids[:]


class WrongDevice(DeviceMutant):
    name, killed_by = "wrong-device", "DRA-PREP-001"
    bug = "prepare answers another device of the pool than the one allocated"

    def change(self, device: Any) -> None:
        device.device_name = f"{device.device_name}-other"


class ExtraDevice(Mutant):
    name, killed_by = "extra-device", "DRA-PREP-001"
    bug = "prepare hands out one device more than was allocated"

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        for entry in response.claims.values():
            if entry.devices:
                extra = entry.devices.add()
                extra.CopyFrom(entry.devices[0])
                extra.device_name = f"{extra.device_name}-extra"
        return response


class MalformedCdiId(DeviceMutant):
    name, killed_by = "malformed-cdi-id", "DRA-PREP-001"
    bug = "CDI device IDs without the vendor/class=name form"

    def change(self, device: Any) -> None:
        device.cdi_device_ids[:] = [i.partition("=")[2] or i for i in device.cdi_device_ids]


class UnresolvableCdiId(DeviceMutant):
    name, killed_by = "unresolvable-cdi-id", "DRA-PREP-011"
    bug = "well-formed CDI device IDs that no spec file on the node defines"

    def change(self, device: Any) -> None:
        device.cdi_device_ids[:] = [f"{i}-missing" for i in device.cdi_device_ids]


class SecondPrepareDiffers(Mutant):
    name, killed_by = "second-prepare-differs", "DRA-PREP-002"
    bug = "a repeated prepare of a claim answers with other CDI IDs"

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        with self._lock:
            seen = self.state.setdefault("seen", set())
            for uid, entry in response.claims.items():
                if uid in seen:
                    for device in entry.devices:
                        device.cdi_device_ids[:] = [f"{i}-again" for i in device.cdi_device_ids]
                seen.add(uid)
        return response


class StalePreparation(Mutant):
    name, killed_by = "stale-preparation", "DRA-PREP-004"
    bug = ("preparations are keyed by claim name: a claim deleted and created again under "
           "the same name gets the old claim's devices")

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        with self._lock:
            cache: dict[tuple[str, str], Any] = self.state.setdefault("cache", {})
            for claim in request.claims:
                entry = response.claims.get(claim.uid)
                if entry is None:
                    continue
                key = (claim.namespace, claim.name)
                if key in cache:
                    entry.CopyFrom(cache[key])
                elif not entry.error:
                    cache[key] = type(entry)()
                    cache[key].CopyFrom(entry)
        return response


class SubrequestNames(DeviceMutant):
    name, killed_by = "subrequest-names", "DRA-PREP-007"
    bug = "request names keep the /subrequest suffix of the allocation result"

    def change(self, device: Any) -> None:
        device.request_names[:] = [f"{n}/sub" for n in device.request_names]


class SwallowErrors(Mutant):
    name, killed_by = "swallow-errors", "DRA-PREP-012"
    bug = "a claim that cannot be prepared is answered as prepared, with no devices"

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        try:
            response = forward(request)
        except grpc.RpcError:
            response = None
        if response is None:
            from dra_kubelet_api.wire import DRA  # noqa: PLC0415

            response = DRA[version].NodePrepareResourcesResponse()
            for claim in request.claims:
                response.claims[claim.uid].SetInParent()
        for uid in [c.uid for c in request.claims]:
            entry = response.claims[uid]
            if entry.error:
                entry.error = ""
        return response


class DropErrorEntries(Mutant):
    name, killed_by = "drop-error-entries", "DRA-PREP-003"
    bug = "claims that failed are left out of the prepare answer (a SHOULD: the kubelet retries)"

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        for uid in [uid for uid, entry in response.claims.items() if entry.error]:
            del response.claims[uid]
        return response


class FailWholeCall(Mutant):
    name, killed_by = "fail-whole-call", "DRA-PREP-005"
    bug = ("one bad claim fails the whole NodePrepareResources call, as upstream's Go helper "
           "does (a SHOULD: the kubelet API allows it)")

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        failed = [entry.error for entry in response.claims.values() if entry.error]
        if failed:
            raise Abort(grpc.StatusCode.UNKNOWN, f"get resource claims: {failed[0]}")
        return response


class V1beta1Differs(DeviceMutant):
    name, killed_by = "v1beta1-differs", "DRA-GRPC-002"
    bug = "the v1beta1 service, kept for older kubelets, answers without CDI device IDs"

    def applies(self, version: str) -> bool:
        return version == "v1beta1"

    def change(self, device: Any) -> None:
        del device.cdi_device_ids[:]


class OneCallAtATime(Mutant):
    name, killed_by = "one-call-at-a-time", "DRA-GRPC-003"
    bug = "a call arriving while another runs is refused as busy"

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        busy = self.state.setdefault("busy", threading.Semaphore(1))
        if not busy.acquire(blocking=False):
            raise Abort(grpc.StatusCode.UNAVAILABLE, "busy: one call at a time")
        try:
            return forward(request)
        finally:
            busy.release()


class IgnoreConfig(Mutant):
    name, killed_by = "ignore-config", "DRA-CONF-001"
    bug = "opaque configuration of the claim never reaches the devices (its env is dropped)"

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        for uid in response.claims:
            self.context.strip_config_env(uid)
        return response


# -- what is left behind --------------------------------------------------------------------

class LeakCdiSpec(Mutant):
    name, killed_by = "leak-cdi-spec", "DRA-UNPREP-003"
    bug = "the claim's CDI spec files survive unprepare: a new container could still use it"

    def unprepare(self, request: Any, forward: Forward, version: str) -> Any:
        kept = self.context.spec_files([claim.uid for claim in request.claims])
        response = forward(request)
        for path, text in kept.items():
            path.write_text(text)
        return response


class UnknownUnprepareFails(Mutant):
    name, killed_by = "unknown-unprepare-fails", "DRA-UNPREP-002"
    bug = "unprepare of a claim this instance never prepared is an error"

    def prepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        with self._lock:
            self.state.setdefault("known", set()).update(response.claims)
        return response

    def unprepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        with self._lock:
            known = self.state.setdefault("known", set())
            for uid, entry in response.claims.items():
                if uid not in known:
                    entry.error = f"claim {uid} is not prepared here"
                known.discard(uid)
        return response


class UnprepareTwiceFails(Mutant):
    name, killed_by = "unprepare-twice-fails", "DRA-UNPREP-001"
    bug = "a second unprepare of a claim (the kubelet's retry) is an error: it is gone already"

    def unprepare(self, request: Any, forward: Forward, version: str) -> Any:
        response = forward(request)
        with self._lock:
            done = self.state.setdefault("done", set())
            for uid, entry in response.claims.items():
                if uid in done and not entry.error:
                    entry.error = f"claim {uid} is not prepared"
                done.add(uid)
        return response


# -- registration ---------------------------------------------------------------------------

class WrongDriverName(Mutant):
    name, killed_by = "wrong-driver-name", "DRA-REG-001"
    bug = ("GetInfo names another driver than the one its slices and claims are for (a copied "
           "chart's default name, say): the kubelet sends it no claim of its own")

    def get_info(self, info: Any) -> Any:
        info.name = "copied-chart-default.example.com"
        return info


class UnknownServiceVersions(Mutant):
    name, killed_by = "unknown-service-versions", "DRA-REG-002"
    bug = "supported_versions lists API versions instead of gRPC services the kubelet knows"

    def get_info(self, info: Any) -> Any:
        info.supported_versions[:] = ["v1", "v1beta1"]
        return info


class DiesOnRejection(Mutant):
    name, killed_by = "dies-on-rejection", "DRA-REG-003"
    bug = ("a registration rejected by the kubelet makes the plugin exit: it serves nothing "
           "until it has been restarted")
    RESTART_SECONDS: ClassVar[float] = 5.0

    def notify(self, request: Any, forward: Forward, context: grpc.ServicerContext) -> Any:
        self._refuse_while_restarting()
        if not request.plugin_registered:
            self.state["restarted_at"] = time.monotonic() + self.RESTART_SECONDS
        return forward(request)

    def get_info(self, info: Any) -> Any:
        self._refuse_while_restarting()
        return info

    def _refuse_while_restarting(self) -> None:
        if time.monotonic() < self.state.get("restarted_at", 0.0):
            raise Abort(grpc.StatusCode.UNAVAILABLE, "the plugin exited and is restarting")


# -- health ---------------------------------------------------------------------------------

class PartialHealth(Mutant):
    name, killed_by = "partial-health", "DRA-FEAT-HEALTH-001"
    bug = "each health message lists only the devices that changed, not all of them"

    def health(self, message: Any) -> Any:
        if len(message.devices) > 1:
            del message.devices[-1]
        return message


MUTANTS: dict[str, type[Mutant]] = {m.name: m for m in (
    DropCdiIds, WrongDevice, ExtraDevice, MalformedCdiId, UnresolvableCdiId,
    SecondPrepareDiffers, StalePreparation, SubrequestNames, SwallowErrors, DropErrorEntries,
    FailWholeCall, V1beta1Differs, OneCallAtATime, IgnoreConfig, LeakCdiSpec,
    UnknownUnprepareFails, UnprepareTwiceFails, WrongDriverName, UnknownServiceVersions,
    DiesOnRejection, PartialHealth)}


def table() -> str:
    """The README's table: mutant, its bug, the requirement that kills it."""
    lines = ["| mutant | bug | killed by |", "|---|---|---|"]
    lines += [f"| `{m.name}` | {m.bug} | {m.killed_by} |" for m in MUTANTS.values()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())

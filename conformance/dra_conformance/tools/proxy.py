"""A gRPC proxy on a driver's sockets that breaks the driver on purpose.

A conformance suite that never fails proves nothing. This proxy serves a registration socket
and a DRA socket of its own, forwards every call to the real driver (found through its
registration socket, so restarts are followed) and alters the calls and answers as the chosen
mutants say (mutants.py: one realistic driver bug each, with the requirement that must
catch it). Pointing the suite at the proxy must make it fail, naming that requirement.

Usage: ``python -m dra_conformance.tools.proxy --upstream REG --listen DIR --driver NAME
--fault drop-cdi-ids [--cdi-dir /var/run/cdi] [--config-env NAME]``;
``python -m dra_conformance.tools.mutants`` lists the mutants.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
from dra_kubelet_api.wire import DRA, HEALTH, REGISTRATION

from dra_conformance.kubelet.discovery import find_registration_socket
from dra_conformance.tools.mutants import MUTANTS, Abort, Mutant

FAULTS = tuple(MUTANTS)


@dataclass(frozen=True)
class Faults:
    enabled: frozenset[str] = frozenset()
    cdi_dirs: tuple[Path, ...] = ()  # for the faults that touch spec files
    config_env: tuple[str, ...] = ()  # variables ignore-config strips

    def __post_init__(self) -> None:
        unknown = set(self.enabled) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")


@dataclass
class DriverProxy:
    """Serves ``listen/registry/<driver>-reg.sock`` and ``listen/dra.sock``."""

    upstream: Path  # the driver's registration socket or plugins_registry directory
    listen: Path
    driver: str
    faults: Faults = field(default_factory=Faults)
    _servers: list[grpc.Server] = field(default_factory=list)
    _endpoint: str | None = None
    _channels: dict[str, grpc.Channel] = field(default_factory=dict)
    _mutants: list[Mutant] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._mutants = [MUTANTS[name](context=self) for name in sorted(self.faults.enabled)]

    @property
    def registration_socket(self) -> Path:
        return self.listen / "registry" / f"{self.driver}-reg.sock"

    @property
    def dra_socket(self) -> Path:
        return self.listen / "dra.sock"

    def start(self) -> DriverProxy:
        self.registration_socket.parent.mkdir(parents=True, exist_ok=True)
        dra = self._server([self._dra_handler(version, pb) for version, pb in DRA.items()]
                           + [self._health_handler(pb) for pb in HEALTH.values()])
        dra.add_insecure_port(f"unix:{self.dra_socket}")
        registration = self._server([self._registration_handler()])
        registration.add_insecure_port(f"unix:{self.registration_socket}")
        for server in (dra, registration):
            server.start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in reversed(self._servers):
            server.stop(0.5).wait()
        self._servers.clear()
        for channel in self._channels.values():
            channel.close()
        for socket in (self.registration_socket, self.dra_socket):
            socket.unlink(missing_ok=True)

    # upstream ---------------------------------------------------------------------------
    def _channel(self, target: str) -> grpc.Channel:
        with self._lock:
            if target not in self._channels:
                self._channels[target] = grpc.insecure_channel(f"unix:{target}")
            return self._channels[target]

    def _upstream_registration(self) -> str:
        socket = find_registration_socket(self.upstream, self.driver, timeout=10)
        if socket is None:
            raise RuntimeError(f"no driver {self.driver} at {self.upstream}")
        return str(socket)

    def _call(self, target: str, pb: ModuleType, service: str, method: str,
              request: Any) -> Any:
        descriptor = pb.DESCRIPTOR.services_by_name[service].methods_by_name[method]
        response_type = getattr(pb, descriptor.output_type.name)
        stub = self._channel(target).unary_unary(
            f"/{descriptor.containing_service.full_name}/{method}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=response_type.FromString)
        return stub(request, timeout=45)

    def _dra_target(self) -> str:
        if self._endpoint is None:
            self._refresh_endpoint()
        assert self._endpoint is not None  # noqa: S101 (set by _refresh_endpoint)
        return self._endpoint

    def _refresh_endpoint(self) -> Any:
        info = self._call(self._upstream_registration(), REGISTRATION, "Registration",
                          "GetInfo", REGISTRATION.InfoRequest())
        self._endpoint = str(info.endpoint)
        return info

    # services ---------------------------------------------------------------------------
    @staticmethod
    def _server(handlers: Sequence[grpc.GenericRpcHandler]) -> grpc.Server:
        server = grpc.server(ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers(tuple(handlers))
        return server

    def _registration_handler(self) -> grpc.GenericRpcHandler:
        def get_info(request: Any, context: grpc.ServicerContext) -> Any:
            info = self._refresh_endpoint()  # a restarted driver has a new endpoint
            info.endpoint = str(self.dra_socket)
            return _mutated(context, lambda: _chain(
                info, [m.get_info for m in self._mutants]))

        def notify(request: Any, context: grpc.ServicerContext) -> Any:
            def forward(message: Any) -> Any:
                return self._call(self._upstream_registration(), REGISTRATION,
                                  "Registration", "NotifyRegistrationStatus", message)
            return _mutated(context, lambda: _through(
                request, forward, [partial(m.notify, context=context) for m in self._mutants]))
        return _handler(REGISTRATION, "Registration",
                        {"GetInfo": get_info, "NotifyRegistrationStatus": notify})

    def _dra_handler(self, version: str, pb: ModuleType) -> grpc.GenericRpcHandler:
        def call(method: str) -> Callable[[Any], Any]:
            return lambda message: self._call(self._dra_target(), pb, "DRAPlugin", method,
                                              message)

        def prepare(request: Any, context: grpc.ServicerContext) -> Any:
            response = _mutated(context, lambda: _through(
                request, call("NodePrepareResources"),
                [partial(m.prepare, version=version) for m in self._mutants]))
            return self._break_prepare(response)

        def unprepare(request: Any, context: grpc.ServicerContext) -> Any:
            return _mutated(context, lambda: _through(
                request, call("NodeUnprepareResources"),
                [partial(m.unprepare, version=version) for m in self._mutants]))
        return _handler(pb, "DRAPlugin", {"NodePrepareResources": prepare,
                                          "NodeUnprepareResources": unprepare})

    def _health_handler(self, pb: ModuleType) -> grpc.GenericRpcHandler:
        descriptor = pb.DESCRIPTOR.services_by_name["DRAResourceHealth"]
        method = descriptor.methods_by_name["NodeWatchResources"]

        def watch(request: Any, context: Any) -> Any:
            stream = self._channel(self._dra_target()).unary_stream(
                f"/{descriptor.full_name}/NodeWatchResources",
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=getattr(pb, method.output_type.name).FromString)
            for message in stream(request, timeout=context.time_remaining()):
                yield _chain(message, [m.health for m in self._mutants])
        return _handler(pb, "DRAResourceHealth", {"NodeWatchResources": watch})

    def _break_prepare(self, response: Any) -> Any:
        """A last change to every prepare answer, for proxies made for one test."""
        return response

    # what mutants touch on the node -----------------------------------------------------
    def spec_files(self, uids: Sequence[str]) -> dict[Path, str]:
        """The CDI spec files (path -> text) of these claims, in the given CDI folders."""
        found = {}
        for directory in self.faults.cdi_dirs:
            for path in directory.glob("*") if directory.is_dir() else ():
                text = path.read_text()
                if any(uid in path.name or uid in text for uid in uids):
                    found[path] = text
        return found

    def strip_config_env(self, uid: str) -> None:
        """Remove the variables named by ``config_env`` from the claim's CDI specs."""
        names = set(self.faults.config_env)
        for path, text in self.spec_files([uid]).items():
            spec = json.loads(text)
            for device in spec.get("devices", []):
                edits = device.get("containerEdits", {})
                edits["env"] = [e for e in edits.get("env", [])
                                if e.partition("=")[0] not in names]
            path.write_text(json.dumps(spec, indent=2) + "\n")


def _chain(message: Any, hooks: Sequence[Callable[[Any], Any]]) -> Any:
    for hook in hooks:
        message = hook(message)
    return message


def _through(request: Any, forward: Callable[[Any], Any],
             hooks: Sequence[Callable[[Any, Callable[[Any], Any]], Any]]) -> Any:
    """The call through every mutant's hook, the first outermost, then to the driver."""
    if not hooks:
        return forward(request)
    first, rest = hooks[0], hooks[1:]
    return first(request, lambda message: _through(message, forward, rest))


def _mutated(context: grpc.ServicerContext, call: Callable[[], Any]) -> Any:
    """Run ``call``; a mutant's Abort, or the driver's own error, becomes this call's."""
    try:
        return call()
    except Abort as abort:
        context.abort(abort.code, abort.details)
    except grpc.RpcError as error:
        context.abort(error.code(), error.details())


def _handler(pb: ModuleType, service: str,
             functions: dict[str, Callable[[Any, Any], Any]]) -> grpc.GenericRpcHandler:
    descriptor = pb.DESCRIPTOR.services_by_name[service]
    handlers = {}
    for method in descriptor.methods:
        request = getattr(pb, method.input_type.name)
        response = getattr(pb, method.output_type.name)
        make = (grpc.unary_stream_rpc_method_handler if method.server_streaming
                else grpc.unary_unary_rpc_method_handler)
        handlers[method.name] = make(functions[method.name],
                                     request_deserializer=request.FromString,
                                     response_serializer=response.SerializeToString)
    return grpc.method_handlers_generic_handler(descriptor.full_name, handlers)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", type=Path, required=True,
                        help="the driver's registration socket or plugins_registry directory")
    parser.add_argument("--listen", type=Path, required=True, help="directory for our sockets")
    parser.add_argument("--driver", required=True)
    parser.add_argument("--fault", action="append", choices=FAULTS, default=[])
    parser.add_argument("--cdi-dir", action="append", type=Path, default=[])
    parser.add_argument("--config-env", action="append", default=[])
    args = parser.parse_args(argv)
    proxy = DriverProxy(args.upstream, args.listen, args.driver, Faults(
        frozenset(args.fault), tuple(args.cdi_dir), tuple(args.config_env))).start()
    print(f"proxy for {args.driver}: registration {proxy.registration_socket}, "
          f"DRA {proxy.dra_socket}, faults {sorted(args.fault)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()


if __name__ == "__main__":
    main()

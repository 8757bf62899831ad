"""Serving a servicer object for a service described in a generated ``_pb2`` module.

This is what protoc's ``_pb2_grpc.add_*Servicer_to_server`` does, driven by the service
descriptor instead of generated code: the server then needs only the typed ``_pb2`` modules,
and a servicer missing a method fails at start instead of at the kubelet's first call.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import grpc


def add_service(server: grpc.Server, pb: ModuleType, service: str, servicer: object) -> None:
    """Serve ``pb``'s ``service`` (e.g. "DRAPlugin") with ``servicer``'s same-named methods."""
    descriptor = pb.DESCRIPTOR.services_by_name[service]
    handlers: dict[str, Any] = {}
    for method in descriptor.methods:
        request = getattr(pb, method.input_type.name)
        response = getattr(pb, method.output_type.name)
        make = (grpc.unary_stream_rpc_method_handler if method.server_streaming
                else grpc.unary_unary_rpc_method_handler)
        handlers[method.name] = make(getattr(servicer, method.name),
                                     request_deserializer=request.FromString,
                                     response_serializer=response.SerializeToString)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(descriptor.full_name, handlers),))
    server.add_registered_method_handlers(descriptor.full_name, handlers)

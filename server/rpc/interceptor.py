"""The base class of our gRPC server interceptors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc

# grpc-stubs make `grpc.aio.ServerInterceptor` generic in its request and response types; at run
# time it is a plain class that cannot be subscripted. Our interceptors wrap every method alike.
if TYPE_CHECKING:
    ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    ServerInterceptor = grpc.aio.ServerInterceptor

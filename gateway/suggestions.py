"""`HideSuggestions`: error messages without graphql-core's "Did you mean ...?" hints.

With introspection off, a hint such as "Cannot query field 'orderz' on type 'Query'. Did you mean
'orders'?" would still let a caller map the schema by guessing. graphql-core 3.3 can leave the hints
out (`hide_suggestions`), but strawberry passes that neither to validation nor to execution, where
variable coercion makes them too ("Field 'reasn' is not defined by type 'ReasonInput'. Did you mean
'reason'?"). So the finished messages are trimmed instead, for every result: HTTP answers and each
frame of a WebSocket stream. Every hint graphql-core writes comes from `did_you_mean` (" Did you mean
'a', 'b', or 'c'?") or ScalarLeafsRule (" Did you mean 'a { ... }'?"), neither holding a "?" before its
end."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

_HINT = re.compile(r" Did you mean [^?]*\?")


def _trim(result: object) -> None:
    errors: list[GraphQLError] | None = getattr(result, "errors", None)
    for error in errors or ():
        error.message = _HINT.sub("", error.message)


class HideSuggestions(SchemaExtension):
    """Removes "Did you mean ...?" from every error message of an operation."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        _trim(result)
        _trim(getattr(result, "initial_result", None))

    def on_stream_result(self, result: object) -> Iterator[None]:
        _trim(result)
        yield None

"""The one check every GraphQL string argument passes before any resolver runs.

The GraphQL String and ID scalars take any Unicode, but PostgreSQL refuses a string holding NUL and
UTF-8 cannot encode a lone surrogate: such a value reached psycopg2 from filters, cursors, reasons and
ids and ended as "Unexpected error.". `CheckedStrings` walks a field's converted arguments (input
objects and lists included) through `inputs.text`; a bad string is answered like any other malformed
input: an `InvalidInputError` where the field's result union has one (mutations), otherwise a query
error with code INVALID_ARGUMENT. Either way it names the input and the resolver never runs."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver, SyncExtensionResolver
from strawberry.schema.name_converter import NameConverter
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.union import StrawberryUnion

from gateway.errors import InvalidInputError, as_error, query_error
from server.domain import inputs
from server.errors import InvalidArgument


def _strings(value: Any, path: tuple[str, ...], names: NameConverter) -> Iterator[tuple[str, str]]:
    """(dotted GraphQL name, string) for every string in an argument value."""
    if isinstance(value, str):
        yield ".".join(path), value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path, names)
    else:
        definition = getattr(type(value), "__strawberry_definition__", None)
        if isinstance(definition, StrawberryObjectDefinition) and definition.is_input:
            for field in definition.fields:
                yield from _strings(
                    getattr(value, field.python_name), (*path, names.get_graphql_name(field)), names
                )


def check(arguments: dict[str, Any], field: StrawberryField, names: NameConverter) -> None:
    """Raises `InvalidArgument` naming the first unstorable string. An input object argument is not
    part of the name (`reason`, not `input.reason`), as the resolvers' own errors name fields."""
    for argument in field.arguments:
        value = arguments.get(argument.python_name)
        if value is None:
            continue
        scalar = isinstance(value, (str, list))
        path = (names.get_graphql_name(argument),) if scalar else ()
        for name, text in _strings(value, path, names):
            inputs.text(name, text)


class CheckedStrings(FieldExtension):
    """Refuses a field's call when a string argument could not be stored (see the module)."""

    def apply(self, field: StrawberryField) -> None:
        self._field = field

    def _refusal(self, exc: InvalidArgument) -> Any:
        field_type = self._field.type
        if isinstance(field_type, StrawberryUnion) and InvalidInputError in field_type.types:
            return as_error(exc)
        raise query_error(exc) from None

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            check(kwargs, self._field, info.schema.config.name_converter)
        except InvalidArgument as exc:
            return self._refusal(exc)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            check(kwargs, self._field, info.schema.config.name_converter)
        except InvalidArgument as exc:
            return self._refusal(exc)
        result = next_(source, info, **kwargs)
        # A subscription's resolver answers an async generator, which is not awaited.
        return await result if inspect.isawaitable(result) else result


def check_strings(*roots: type) -> None:
    """Adds `CheckedStrings` to every field of these types that takes arguments, inside its other
    extensions, so the permission check still comes first."""
    for root in roots:
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]  # set by @strawberry.type
            if field.arguments and not any(isinstance(e, CheckedStrings) for e in field.extensions):
                field.extensions.insert(0, CheckedStrings())

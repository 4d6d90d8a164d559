"""HTTP parameter pollution (ASVS 5.0 V15.3.7): a single-valued query parameter sent twice is refused.

``?country=US&country=GB`` or ``?limit=1&limit=1000`` would otherwise be answered with one of the values
(FastAPI takes the last), and a proxy, a cache or a log reader in front may have taken the other. Which
parameters may repeat is read from each route's signature, the same declaration the OpenAPI schema is
generated from: a ``list[...]`` (or other sequence) parameter may, anything else may not, including the
undeclared ones a route reads itself (the column filters of ``/api/v1/marts/{name}``, the ``code`` and
``state`` of the sign-on callback). The check is one app-wide dependency (``create_app`` passes it to
``FastAPI(dependencies=...)``), so every route gets it and no route has to remember it.
"""

from __future__ import annotations

import types
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

_SEQUENCES = (list, set, frozenset, tuple)
# id(route) -> (route, names): holding the route keeps its id from being reused by a later app's route
_multi_valued_by_route: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_is_sequence(arg) for arg in get_args(annotation) if arg is not type(None))
    target = origin or annotation
    return isinstance(target, type) and issubclass(target, (*_SEQUENCES, Sequence)) and target is not str


def _query_names(annotation: Any, alias: str) -> list[tuple[str, Any]]:
    """(name, annotation) of one query parameter, or of each field of a query parameter model."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(field.alias or name, field.annotation) for name, field in annotation.model_fields.items()]
    return [(alias, annotation)]


def multi_valued_query_params(route: APIRoute) -> frozenset[str]:
    """The query parameters ``route`` declares as lists (computed once per route)."""
    cached = _multi_valued_by_route.get(id(route))
    if cached is not None and cached[0] is route:
        return cached[1]
    fields = get_flat_dependant(route.dependant).query_params
    named = [pair for field in fields for pair in _query_names(field.field_info.annotation, field.alias)]
    known = frozenset(name for name, annotation in named if _is_sequence(annotation))
    _multi_valued_by_route[id(route)] = (route, known)
    return known


async def refuse_repeated_query_params(request: Request) -> None:
    """422, in FastAPI's validation-error shape, when a query parameter not declared as a list repeats."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.query:
        return
    counts = Counter(name for name, _ in request.query_params.multi_items())
    lists = multi_valued_query_params(route)
    repeated = sorted(name for name, count in counts.items() if count > 1 and name not in lists)
    if repeated:
        raise RequestValidationError([_repeated(request, name) for name in repeated])


def _repeated(request: Request, name: str) -> dict[str, Any]:
    return {
        "type": "repeated_parameter",
        "loc": ("query", name),
        "msg": f"query parameter {name!r} takes one value and was given more than once",
        "input": request.query_params.getlist(name),
    }


SINGLE_VALUED_QUERY = Depends(refuse_repeated_query_params)

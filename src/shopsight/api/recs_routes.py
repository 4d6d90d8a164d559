"""``/api/v1/recs``: recommendations for a user, items like an item, a live session and a cart.

Answers come from the registry's active model version (:class:`LiveRecommender`), held in memory: a
request costs a few dict lookups and numpy operations, and the body is written by orjson straight from
the answer (the pydantic models below describe it in the OpenAPI schema). 503 while no model is trained.
Each answer carries a ``request_id`` the storefront echoes in its feedback events
(:mod:`shopsight.ml.recommend.feedback`); ``/models`` lists the registry's versions and offline metrics.

A caller with a store / region scope gets a user's recommendations only for a customer inside it (the
customer's country among the scope's countries, read from the warehouse); any other user id, known or not,
answers 404 like a customer outside the scope on the entity routes. Item, session and cart answers name
products only, which no scope restricts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shopsight.api.auth import Caller, Security, authorize
from shopsight.api.scoping import Kind, ScopeIds, row_scope
from shopsight.ml.recommend.registry import ModelRegistry
from shopsight.ml.recommend.serving import (
    RECOMMENDER,
    Answer,
    LiveRecommender,
    RecommenderService,
    models_dir,
)
from shopsight.platform import Platform
from shopsight.security.policy import Action, Resource
from shopsight.warehouse.reader import WarehouseReader

MAX_K = 50
MAX_CONTEXT_ITEMS = 100
NOT_TRAINED = "no recommendation model is trained yet: run `shopsight recs train` (and activate a version)"


class RecommendedItem(BaseModel):
    """One recommended item; ``source`` says where it came from (personal, similar, session, fbt...)."""

    item_id: str
    score: float
    source: str


class Recommendations(BaseModel):
    """The model and version that answered, best items first; ``request_id`` (uuid4 hex) names this answer
    in the storefront's ``Product List Viewed`` / ``Product Clicked`` feedback events."""

    model: str
    version: int
    request_id: str
    items: list[RecommendedItem]


class ModelVersionPublic(BaseModel):
    """One registered version: the model it trained, parameters, hold-out metrics, whether it is served."""

    version: int
    model: str | None
    status: str
    active: bool
    created_at: datetime
    params: dict[str, Any]
    metrics: dict[str, float]


class ModelVersions(BaseModel):
    """Every version of the served recommender, newest first (empty before the first training)."""

    name: str
    active_version: int | None
    versions: list[ModelVersionPublic]


class ItemsRequest(BaseModel):
    """A session's recent item ids (oldest first) or a cart's item ids, and how many items to return."""

    item_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=MAX_CONTEXT_ITEMS)
    k: int = Field(default=10, ge=1, le=MAX_K)


Count = Annotated[int, Query(ge=1, le=MAX_K, description="How many items to return.")]
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Sign in or send a bearer token."},
    403: {"description": "The caller may not read recommendations."},
    404: {"description": "A user outside the caller's store / region scope (scoped callers only)."},
    503: {"description": "No recommendation model is trained yet."},
}


def _json(answer: Answer) -> Response:
    body = {"model": answer.model, "version": answer.version, "request_id": uuid.uuid4().hex,
            "items": answer.items}  # fmt: skip
    return Response(orjson.dumps(body), media_type="application/json")


def _utc(moment: datetime) -> datetime:
    """The registry writes UTC; SQLite hands it back without a zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _versions(registry: ModelRegistry) -> ModelVersions:
    versions = registry.versions(RECOMMENDER)[::-1]
    active = next((v.version for v in versions if v.active), None)
    public = [
        ModelVersionPublic(version=v.version, model=v.params.get("model"), status=v.status, active=v.active,
                           created_at=_utc(v.created_at), params=v.params, metrics=v.metrics)
        for v in versions
    ]  # fmt: skip
    return ModelVersions(name=RECOMMENDER, active_version=active, versions=public)


def build_recs_router(platform: Platform, security: Security, reader: WarehouseReader) -> APIRouter:
    """The recommendation routes and the model list, guarded by the ``recommendations`` read right; a
    scoped caller's user lookups are checked against ``reader``'s customers."""
    live = LiveRecommender(ModelRegistry(platform.metadata, models_dir(platform.settings)))
    scoped = ScopeIds(reader)
    router = APIRouter(prefix="/api/v1/recs", tags=["recommendations"])
    recs_reader = Depends(authorize(security, Resource.RECOMMENDATIONS, Action.READ))

    async def service() -> RecommenderService:
        current = live.current()
        if current is None:
            raise HTTPException(503, NOT_TRAINED)
        return current

    served = Depends(service)
    guarded: dict[int | str, dict[str, Any]] = {code: _PROBLEMS[code] for code in (401, 403)}

    @router.get("/models", response_model=ModelVersions, responses=guarded, dependencies=[recs_reader])
    def models() -> ModelVersions:
        """Registered versions with parameters, hold-out metrics, creation time and which one is served."""
        return _versions(live.registry)  # a metadata query: FastAPI runs this sync handler in a thread

    # Handlers are async: the work is microseconds of numpy, cheaper on the event loop than a thread hop.
    # The guard runs first, so a caller without the right gets 401/403 even while no model is trained.
    options: dict[str, Any] = {
        "response_model": Recommendations,
        "responses": _PROBLEMS,
        "dependencies": [recs_reader],
    }

    @router.get("/users/{user_id}", **options)
    async def for_user(
        user_id: Annotated[str, Path(max_length=200)], k: Count = 10,
        segment: Annotated[str | None, Query(max_length=100, description="Context of a new user.")] = None,
        recs: RecommenderService = served, caller: Caller = recs_reader,
    ) -> Response:  # fmt: skip
        """Top items for a user; a user the model never saw gets the popularity of ``segment`` (or all).
        A caller with a store / region scope gets 404 for a user who is not a customer inside it."""
        scope = row_scope(caller)
        if not scope.unlimited and user_id not in await run_in_threadpool(
            scoped.admitted, Kind.customers, scope
        ):
            raise HTTPException(404, "no such customer in your store / region scope")
        return _json(recs.for_user(user_id, k=k, segment=segment))

    @router.get("/items/{item_id}/similar", **options)
    async def similar(
        item_id: Annotated[str, Path(max_length=200)], k: Count = 10, recs: RecommenderService = served
    ) -> Response:
        """Items like an item (never the item itself); a new item gets content neighbours."""
        return _json(recs.similar(item_id, k=k))

    @router.post("/session", **options)
    async def session(body: ItemsRequest, recs: RecommenderService = served) -> Response:
        """The likely next items of a live session, re-ranked now from its recent items (oldest first)."""
        return _json(recs.for_session(body.item_ids, k=body.k))

    @router.post("/cart", **options)
    async def cart(body: ItemsRequest, recs: RecommenderService = served) -> Response:
        """Items bought together with the cart's items (never those items)."""
        return _json(recs.for_cart(body.item_ids, k=body.k))

    return router

"""``/api/v1/audit``: the audit log, its signed tree head, and RFC 6962 proofs (the security role only).

Reading the log is not itself recorded (that would grow the log on every page view); the records hold
no clear PII by construction (see :class:`~shopsight.security.audit.AuditRecord`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from shopsight.api.auth import Caller, Security, authorize
from shopsight.errors import ShopSightError
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.ledger import (
    AuditEntry,
    ConsistencyProof,
    InclusionProof,
    SignedTreeHead,
    audit_entry,
)
from shopsight.security.policy import Action, Resource

MAX_PAGE = 1000


class AuditHead(BaseModel):
    """The latest signed tree head and the Ed25519 public key (PEM) that verifies it."""

    head: SignedTreeHead
    public_key_pem: str


class AuditPage(BaseModel):
    """Audit records newest first; ``total`` counts every record matching the filter."""

    total: int
    entries: list[AuditEntry]


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


def _proof_error(error: ShopSightError) -> HTTPException:
    return HTTPException(422, str(error))


def build_audit_router(platform: Platform, security: Security) -> APIRouter:
    """Routes over the platform's audit ledger, guarded by ``audit:read``."""
    router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
    reader = Depends(authorize(security, Resource.AUDIT, Action.READ))
    ledger = open_audit(platform).ledger
    problems: dict[int | str, dict[str, Any]] = {
        401: {"model": Problem, "description": "Not signed in."},
        403: {"model": Problem, "description": "Only the security role reads the audit log."},
    }
    # 422 has two shapes: our refusal (no such entry or tree size) and FastAPI's validation error list.
    either = {"anyOf": [Problem.model_json_schema(), {"$ref": "#/components/schemas/HTTPValidationError"}]}
    proof_problems = {
        **problems,
        422: {
            "description": "No such entry or tree size, or invalid parameters.",
            "content": {"application/json": {"schema": either}},
        },
    }

    @router.get("/head", response_model=AuditHead, responses=problems)
    def head(_caller: Caller = reader) -> AuditHead:
        """The latest signed tree head; save it to check later that the log was not rewritten."""
        return AuditHead(head=ledger.head(), public_key_pem=ledger.verifier.public_key_pem)

    @router.get("/entries", response_model=AuditPage, responses=problems)
    def entries(
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        action: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        _caller: Caller = reader,
    ) -> AuditPage:
        """Audit records newest first, optionally one action only."""
        page = ledger.entries(offset=offset, limit=limit, kind=action)
        return AuditPage(total=ledger.count(kind=action), entries=[audit_entry(entry) for entry in page])

    @router.get("/proof/inclusion", response_model=InclusionProof, responses=proof_problems)
    def inclusion(
        index: Annotated[int, Query(ge=0, description="Entry to prove.")],
        size: Annotated[int | None, Query(ge=1, description="Tree size (default: now).")] = None,
        _caller: Caller = reader,
    ) -> InclusionProof:
        """RFC 6962 audit path of one entry, with the signed head that vouches for the root."""
        try:
            return ledger.inclusion_proof(index, size)
        except ShopSightError as error:
            raise _proof_error(error) from None

    @router.get("/proof/consistency", response_model=ConsistencyProof, responses=proof_problems)
    def consistency(
        first: Annotated[int, Query(ge=1, description="Earlier tree size.")],
        second: Annotated[int | None, Query(ge=1, description="Later tree size (default: now).")] = None,
        _caller: Caller = reader,
    ) -> ConsistencyProof:
        """RFC 6962 proof that the log of ``first`` entries is a prefix of the log of ``second``."""
        try:
            return ledger.consistency_proof(first, second)
        except ShopSightError as error:
            raise _proof_error(error) from None

    return router

"""What single sign-on keeps: the logout tokens already used, for as long as they could be replayed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from shopsight.security.identity.oidc_store import OidcStore, oidc_logout_tokens

from .conftest import FakeClock

ISSUER = "https://sso.example.com/realms/shop"
KEEP = timedelta(minutes=7)  # max token age 5 min + twice the 60 s skew


def test_a_logout_token_id_works_once_per_issuer_until_its_token_is_too_old(
    metadata: Engine, clock: FakeClock
) -> None:
    store = OidcStore(metadata)

    def first_use(jti: str, issuer: str = ISSUER) -> bool:
        return store.first_use_of(issuer=issuer, jti=jti, now=clock.now, forget_before=clock.now - KEEP)

    assert first_use("jti-1")
    clock.advance(minutes=6)
    assert not first_use("jti-1")  # a replay while the token could still pass
    assert first_use("jti-1", issuer="https://other.example")  # a jti is unique per issuer only
    assert first_use("jti-2")
    clock.advance(minutes=2)
    assert first_use("jti-1")  # forgotten: a token that old fails its iat check anyway
    with metadata.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(oidc_logout_tokens)).scalar_one()
    assert kept == 3  # jti-1 again, jti-1 at the other issuer, jti-2

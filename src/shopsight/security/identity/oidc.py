"""Single sign-on with OpenID Connect: the authorization-code flow, and who the provider's user is here.

``begin`` picks ``state``, ``nonce``, a PKCE verifier and a browser secret (for a cookie), remembers the
sign-in server-side and hands back the provider's URL. ``finish`` takes the callback: the sign-in must
be known, fresh and started by this browser (it works once), the provider must not report an error or
name another issuer (RFC 9207), the code is exchanged and the ID token validated
(:mod:`shopsight.security.identity.oidc_tokens`). The user is then found by the provider's ``(iss,
sub)`` link, or on a first sign-in by verified e-mail (and linked), or created when just-in-time
provisioning is on. With a role map the provider decides the role at each sign-in.

MFA: a role that needs MFA here (privileged roles, PII clearance) signs in by SSO only when the ID token
says the provider did MFA (``amr``/``acr`` values from the settings); there is no TOTP step after SSO.
Every outcome is audited: ``auth.login.succeeded`` or ``auth.login.failed`` with ``method: oidc`` and
the reason; first links as ``auth.oidc.linked``; provisioning as ``user.created``; role changes as
``role.changed`` by ``oidc``.

Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider posts a signed logout token
when someone signs out there; a valid one, never seen before, ends the ShopSight sessions of that
provider session (``sid``) or of that provider account (``sub``). Audited as
``auth.oidc.backchannel_logout.succeeded`` (how many sessions ended) or ``...failed`` (the reason).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from joserfc.jwk import ECKey, RSAKey

from shopsight.errors import ShopSightError
from shopsight.security.audit import AuditSink, JsonValue
from shopsight.security.identity.models import UserCreate, UserPublic, normalize_email
from shopsight.security.identity.oidc_client import AuthorizationRequest, OpenIdProviderClient, ProviderError
from shopsight.security.identity.oidc_settings import OidcSettings
from shopsight.security.identity.oidc_store import LinkConflict, OidcStore, PendingLogin, digest
from shopsight.security.identity.oidc_tokens import (
    Expectations,
    IdTokenClaims,
    InvalidProviderToken,
    LogoutTokenClaims,
    key_for,
    token_header,
    verify_id_token,
    verify_logout_token,
)
from shopsight.security.identity.roles import Role, requires_mfa
from shopsight.security.identity.service import ANONYMOUS, IdentityService
from shopsight.security.identity.store import UnknownUser
from shopsight.security.sessions import SessionStore

if TYPE_CHECKING:
    from shopsight.platform import Platform

Clock = Callable[[], datetime]
ACTOR = "oidc"
_MAX_PARAM = 2048


def _utc_now() -> datetime:
    return datetime.now(UTC)


def local_path(candidate: str | None) -> str:
    """``candidate`` when it is a path on this server, else ``/`` (no open redirect after sign-in)."""
    path = candidate or "/"
    local = path.startswith("/") and not path.startswith(("//", "/\\"))
    return path if local and len(path) <= 1000 and not any(c in path for c in "\r\n\\") else "/"


class SsoRefused(ShopSightError):
    """A single sign-on that did not let anyone in; ``reason`` is the audited reason code."""

    def __init__(self, reason: str, *, user_id: str | None = None) -> None:
        super().__init__(f"single sign-on refused: {reason}")
        self.reason = reason
        self.user_id = user_id


class LogoutRefused(ShopSightError):
    """A back-channel logout token that ended nothing; ``reason`` is the audited reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"back-channel logout refused: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SsoStart:
    """Where to send the browser, and the secret its sign-in cookie must carry back."""

    authorization_url: str
    browser_secret: str


@dataclass(frozen=True)
class SsoSignIn:
    """A finished single sign-on: the local user, whether MFA was shown, where to go next, the ID token
    (the hint that signs the browser out at the provider later) and its ``sid`` (the provider session a
    back-channel logout names)."""

    user: UserPublic
    mfa_verified: bool
    next_path: str
    id_token: str
    sid: str | None = None


@dataclass(frozen=True)
class _Decision:
    """Who signs in, as what: decided before anything is written."""

    user: UserPublic | None  # None: to be provisioned
    role: Role
    link: bool  # first sign-in of this provider account


class SingleSignOn:
    """The relying-party side of OpenID Connect for one configured provider."""

    def __init__(
        self,
        *,
        settings: OidcSettings,
        identity: IdentityService,
        audit: AuditSink,
        store: OidcStore,
        provider: OpenIdProviderClient | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.settings = settings
        self._identity = identity
        self._audit = audit
        self._store = store
        self._provider = provider or OpenIdProviderClient(settings)
        self._clock = clock

    @classmethod
    def for_platform(cls, platform: Platform, *, identity: IdentityService, audit: AuditSink) -> SingleSignOn:
        """Single sign-on with the platform's ``oidc`` settings and metadata store."""
        return cls(
            settings=platform.settings.oidc,
            identity=identity,
            audit=audit,
            store=OidcStore(platform.metadata),
        )

    @property
    def _lifetime(self) -> timedelta:
        return timedelta(minutes=self.settings.login_timeout_minutes)

    def begin(self, next_path: str | None = None) -> SsoStart:
        """Start a sign-in; :class:`SsoRefused` when the provider cannot be reached or is not trusted."""
        request = AuthorizationRequest(
            state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # 86 characters, inside RFC 7636's 43..128
        )  # fmt: skip
        try:
            url = self._provider.authorization_url(request)
        except ProviderError as error:
            raise self._refuse(error.reason) from None
        now, browser_secret = self._clock(), secrets.token_urlsafe(32)
        self._store.drop_expired(older_than=now - self._lifetime)
        pending = PendingLogin(
            browser_hash=digest(browser_secret), nonce_hash=digest(request.nonce),
            code_verifier=request.code_verifier, next_path=local_path(next_path), created_at=now,
        )  # fmt: skip
        self._store.add_pending(state=request.state, login=pending)
        return SsoStart(authorization_url=url, browser_secret=browser_secret)

    def finish(self, params: Mapping[str, str], *, browser_secret: str | None) -> SsoSignIn:
        """Complete the sign-in the provider sent back; :class:`SsoRefused` (audited) when it fails."""
        pending = self._pending(params, browser_secret)
        token, claims = self._claims(params, pending)
        decision = self._decide(claims)
        user = self._apply(decision, claims)
        mfa = self._idp_did_mfa(claims)
        details: dict[str, JsonValue] = {"method": "oidc", "mfa": "idp" if mfa else "none"}
        self._audit.record(action="auth.login.succeeded", actor=user.id, subject=user.id, details=details)
        return SsoSignIn(
            user=user, mfa_verified=mfa, next_path=pending.next_path, id_token=token, sid=claims.sid
        )

    def logout_url(self, id_token: str) -> str | None:
        """Where to send the browser to sign out at the provider too (None: it offers no end-session
        endpoint, or cannot be reached now; the local session is ended either way)."""
        try:
            return self._provider.logout_url(
                id_token_hint=id_token, post_logout_redirect_uri=self.settings.post_logout_redirect_url
            )
        except ProviderError:
            return None

    def backchannel_logout(self, logout_token: str | None, *, sessions: SessionStore) -> int:
        """End the sessions a provider's logout token names: by ``sid`` those of that provider session,
        by ``sub`` alone every single sign-on session of the linked user (with both, both must match).
        Returns how many ended; :class:`LogoutRefused` (audited) when the token is missing, invalid or
        replayed."""
        if not logout_token:
            raise self._refuse_logout("missing_token")
        claims = self._logout_claims(logout_token)
        user_id = None
        if claims.subject is not None:
            user_id = self._store.linked_user(issuer=claims.issuer, subject=claims.subject)
        unknown_account = claims.subject is not None and user_id is None
        ended = 0 if unknown_account else sessions.revoke_sso(sid=claims.sid, user_id=user_id)
        named = [name for name, value in (("sid", claims.sid), ("sub", claims.subject)) if value is not None]
        details: dict[str, JsonValue] = {"by": "+".join(named), "sessions": ended}
        self._audit.record(
            action="auth.oidc.backchannel_logout.succeeded", actor=ACTOR, subject=user_id, details=details
        )
        return ended

    # -- the callback, step by step ----------------------------------------------------------------

    def _pending(self, params: Mapping[str, str], browser_secret: str | None) -> PendingLogin:
        state = params.get("state", "")
        if not state or len(state) > _MAX_PARAM or not browser_secret:
            raise self._refuse("state_mismatch")
        pending = self._store.take_pending(state, not_before=self._clock() - self._lifetime)
        if pending is None or not hmac.compare_digest(pending.browser_hash, digest(browser_secret)):
            raise self._refuse("state_mismatch")
        return pending

    def _claims(self, params: Mapping[str, str], pending: PendingLogin) -> tuple[str, IdTokenClaims]:
        if "error" in params:
            raise self._refuse("provider_error", extra={"error": params["error"][:64]})
        if "iss" in params and params["iss"] != self.settings.issuer:
            raise self._refuse("issuer_mismatch")
        code = params.get("code", "")
        if not code or len(code) > _MAX_PARAM:
            raise self._refuse("missing_code")
        try:
            token = self._provider.exchange_code(code=code, code_verifier=pending.code_verifier)
            return token, self._verified(token, pending)
        except ProviderError as error:
            raise self._refuse(error.reason) from None
        except InvalidProviderToken as error:
            raise self._refuse(f"id_token_{error.reason}") from None

    def _verified(self, token: str, pending: PendingLogin) -> IdTokenClaims:
        key = self._provider_key(token)
        return verify_id_token(token, key=key, expect=self._expectations(), nonce_hash=pending.nonce_hash)

    def _provider_key(self, token: str) -> RSAKey | ECKey:
        """The provider key that signed ``token``; the keys are fetched again once for an unknown one."""
        header = token_header(token)
        key = key_for(header, self._provider.keys()) or key_for(header, self._provider.keys(refresh=True))
        if key is None:
            raise InvalidProviderToken("unknown_key", "no provider key matches the token")
        return key

    def _expectations(self) -> Expectations:
        return Expectations(
            issuer=self.settings.issuer, client_id=self.settings.client_id,
            now=int(self._clock().timestamp()), skew=self.settings.clock_skew_seconds,
            max_age=self.settings.max_token_age_seconds,
        )  # fmt: skip

    def _logout_claims(self, token: str) -> LogoutTokenClaims:
        """A valid logout token's claims, its ``jti`` recorded; refused when invalid or seen before."""
        try:
            claims = verify_logout_token(token, key=self._provider_key(token), expect=self._expectations())
        except (ProviderError, InvalidProviderToken) as error:
            raise self._refuse_logout(error.reason) from None
        now = self._clock()
        # A jti must be remembered while its token could still pass the iat check (the skew both ways).
        keep = timedelta(seconds=self.settings.max_token_age_seconds + 2 * self.settings.clock_skew_seconds)
        if not self._store.first_use_of(
            issuer=claims.issuer, jti=claims.jti, now=now, forget_before=now - keep
        ):
            raise self._refuse_logout("replayed")
        return claims

    def _decide(self, claims: IdTokenClaims) -> _Decision:
        email = self._checked_email(claims)
        linked_id = self._store.linked_user(issuer=claims.issuer, subject=claims.subject)
        user = self._identity.user_by_id(linked_id) if linked_id else self._by_email(email)
        if user is None and not self.settings.provision_users:
            raise self._refuse("unknown_user")
        role = self._mapped_role(claims, current=user.role if user else None)
        if user is not None and user.disabled:
            raise self._refuse("disabled", user_id=user.id)
        clearance = user.pii_clearance if user else False
        if requires_mfa(role, pii_clearance=clearance) and not self._idp_did_mfa(claims):
            raise self._refuse("mfa_not_asserted", user_id=user.id if user else None)
        return _Decision(user=user, role=role, link=linked_id is None)

    def _checked_email(self, claims: IdTokenClaims) -> str:
        if claims.email is None or not claims.email_verified:
            raise self._refuse("email_unverified")
        email = normalize_email(claims.email)
        domains = {domain.lower() for domain in self.settings.allowed_email_domains}
        if domains and email.rpartition("@")[2] not in domains:
            raise self._refuse("email_domain_not_allowed")
        return email

    def _by_email(self, email: str) -> UserPublic | None:
        try:
            return self._identity.get_user(email)
        except UnknownUser:
            return None

    def _mapped_role(self, claims: IdTokenClaims, *, current: Role | None) -> Role:
        """The role the provider's claim maps to; with no map, the local role (or the default)."""
        values = set(claims.values_of(self.settings.role_claim))
        matched = [role for value, role in self.settings.role_map.items() if value in values]
        if self.settings.role_map:
            role = matched[0] if matched else self.settings.default_role
        else:
            role = current or self.settings.default_role
        if role is None:
            raise self._refuse("no_role")
        return role

    def _idp_did_mfa(self, claims: IdTokenClaims) -> bool:
        amr_ok = bool(set(claims.amr) & set(self.settings.mfa_amr_values))
        return amr_ok or (claims.acr is not None and claims.acr in self.settings.mfa_acr_values)

    def _apply(self, decision: _Decision, claims: IdTokenClaims) -> UserPublic:
        """Create, link and re-role as decided; a link conflict is refused before anything else is kept."""
        user = decision.user or self._provision(claims, decision.role)
        if decision.link:
            try:
                self._store.link(
                    issuer=claims.issuer, subject=claims.subject, user_id=user.id, now=self._clock()
                )
            except LinkConflict:
                raise self._refuse("identity_conflict", user_id=user.id) from None
            self._audit.record(action="auth.oidc.linked", actor=ACTOR, subject=user.id,
                               details={"issuer": claims.issuer})  # fmt: skip
        if user.role is not decision.role:
            user = self._identity.change_role(user.email, decision.role, actor=ACTOR)
        return user

    def _provision(self, claims: IdTokenClaims, role: Role) -> UserPublic:
        email = normalize_email(claims.email or "")
        # No password sign-in for a provisioned user: a random password nobody knows, hashed like any.
        return self._identity.create_user(
            UserCreate(email=email, role=role), password=secrets.token_urlsafe(48), actor=ACTOR
        )

    def _refuse(
        self, reason: str, *, user_id: str | None = None, extra: Mapping[str, JsonValue] | None = None
    ) -> SsoRefused:
        details: dict[str, JsonValue] = {"method": "oidc", "reason": reason, **(extra or {})}
        self._audit.record(
            action="auth.login.failed", actor=user_id or ANONYMOUS, subject=user_id, details=details
        )
        return SsoRefused(reason, user_id=user_id)

    def _refuse_logout(self, reason: str) -> LogoutRefused:
        self._audit.record(
            action="auth.oidc.backchannel_logout.failed", actor=ANONYMOUS, details={"reason": reason}
        )
        return LogoutRefused(reason)

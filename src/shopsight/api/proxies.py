"""The real client address and scheme behind trusted reverse proxies (ASVS 5.0 V4.1.3, V15.3.4).

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the direct TCP peer is one of the
``trusted_proxies`` setting's addresses or networks; from any other peer they are ignored, whatever they
say, so a client cannot pick the address the login throttle, the lockout, the audit trail and the session
list see, nor make plain HTTP pass for HTTPS. The default trusts no proxy: ``shopsight serve`` answers
browsers directly on 127.0.0.1, where trusting loopback would let every local client choose its address.

``X-Forwarded-For`` is read from the right: each trusted proxy appends the address it received the request
from, so the first address that is not itself a trusted proxy is the client. Everything left of it was
written by that client and is never used. ``serve`` turns uvicorn's own proxy-header handling off
(``proxy_headers=False``), so this middleware is the only place the headers are interpreted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_SCHEMES = frozenset({"http", "https", "ws", "wss"})


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.0/8``, ``192.0.2.7`` or ``::1`` as networks; a malformed entry raises ``ValueError``."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxies:
    """Which peers may speak for the client, and what the client then is."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)

    def trusts(self, host: str | None) -> bool:
        """Whether ``host`` (an IP address as text) is one of the trusted proxies."""
        address = _address(host) if host else None
        return address is not None and any(address in network for network in self.networks)

    def client(self, forwarded_for: str) -> str | None:
        """The rightmost address of an ``X-Forwarded-For`` chain that is not a trusted proxy (the
        leftmost when every hop is trusted); None when the chain is empty or holds a non-address."""
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        if not hops or any(_address(hop) is None for hop in hops):
            return None
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0]


def _last(value: str) -> str:
    return value.split(",")[-1].strip().lower()


class ForwardedHeaders:
    """Pure ASGI middleware: rewrites ``client`` and ``scheme`` of the scope from the forwarding headers
    when, and only when, the direct peer is a trusted proxy."""

    def __init__(self, app: ASGIApp, *, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and self.trusted.trusts(peer[0]):
            scope = self._resolved(scope)
        await self.app(scope, receive, send)

    def _resolved(self, scope: Scope) -> Scope:
        headers = Headers(scope=scope)
        resolved = dict(scope)
        forwarded_for = ",".join(headers.getlist("x-forwarded-for"))
        client = self.trusted.client(forwarded_for) if forwarded_for else None
        if client is not None:
            resolved["client"] = (client, 0)
        proto = _last(headers.get("x-forwarded-proto", ""))
        if proto in FORWARDED_SCHEMES:  # the nearest proxy's word; a websocket keeps its own scheme family
            secure = proto in ("https", "wss")
            websocket = scope["type"] == "websocket"
            resolved["scheme"] = ("wss" if secure else "ws") if websocket else ("https" if secure else "http")
        return resolved

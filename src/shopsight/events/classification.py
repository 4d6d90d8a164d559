"""Classification of event fields (public, internal, PII, payment) by their path in a Segment call.

Segment leaves ``traits`` and ``properties`` open, so the level comes from the key's meaning: the spec's
reserved identify traits (email, phone, name, address...) and ``context.ip`` are PII wherever traits
appear; card fields are payment data; everything else an event says is internal business data.
"""

from __future__ import annotations

import re

from shopsight.entities.classification import Classification

# Segment's reserved identify traits that identify a person (normalized: lower case, no separators).
PII_TRAITS = frozenset(
    {
        "email", "phone", "name", "firstname", "lastname", "address", "street", "city", "postalcode",
        "birthday", "username", "avatar",
    }
)  # fmt: skip
PII_PROPERTIES = frozenset({"email", "phone", "recipient"})  # Product/Cart Shared recipient is an email
PAYMENT_KEYS = frozenset({"cardnumber", "card", "pan", "cvv", "cvc", "cvv2", "cvc2", "securitycode"})
PII_CONTEXT = frozenset({"ip"})
TRAIT_SECTIONS = frozenset({"traits", "context.traits"})
PII_KEY_NAMES = PII_TRAITS | PII_PROPERTIES | PII_CONTEXT  # a key's name is necessary, its path decides


def normalize_key(key: str) -> str:
    """A field name as the classification compares it: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", key.lower())


def classify_event_path(path: str) -> Classification:
    """The classification of a dotted path in a Segment call, e.g. ``traits.address.city``.

    List positions are left out of the path: ``properties.products.name``.
    """
    parts = path.split(".")
    keys = [normalize_key(part) for part in parts]
    if any(key in PAYMENT_KEYS for key in keys):
        return Classification.PAYMENT
    if parts[0] == "traits" or parts[:2] == ["context", "traits"]:
        start = 1 if parts[0] == "traits" else 2
        if any(key in PII_TRAITS for key in keys[start:]):
            return Classification.PII
    if parts[0] == "context" and len(parts) == 2 and keys[1] in PII_CONTEXT:
        return Classification.PII
    if parts[0] == "properties" and keys[-1] in PII_PROPERTIES:
        return Classification.PII
    return Classification.INTERNAL


def is_pii_event_path(path: str) -> bool:
    """Whether the edge must encrypt the value at ``path``."""
    return classify_event_path(path) is Classification.PII

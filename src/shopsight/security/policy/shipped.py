"""The policy files shipped inside this package (``model.conf``, ``policy.csv``, ``masking.yaml``)."""

from __future__ import annotations

from importlib import resources


def shipped_text(name: str) -> str:
    """The text of one policy file of this package."""
    return resources.files(__package__ or "shopsight.security.policy").joinpath(name).read_text("utf-8")

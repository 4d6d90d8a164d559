"""ShopSight: a self-hostable e-commerce data and intelligence platform.

The public names load on first use: ``import shopsight`` stays cheap for the CLI, whose ``--help``
needs neither the settings' dependencies nor SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsight.lazy import lazy_exports

if TYPE_CHECKING:
    from shopsight.config import Settings, load_settings
    from shopsight.platform import Platform
    from shopsight.records import LakeRecord, RecordKind

__version__ = "0.1.0"

__all__ = ["LakeRecord", "Platform", "RecordKind", "Settings", "__version__", "load_settings"]

__getattr__ = lazy_exports(
    __name__,
    {
        "LakeRecord": "shopsight.records",
        "Platform": "shopsight.platform",
        "RecordKind": "shopsight.records",
        "Settings": "shopsight.config",
        "load_settings": "shopsight.config",
    },
)

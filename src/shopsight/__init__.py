"""ShopSight: a self-hostable e-commerce data and intelligence platform."""

from shopsight.config import Settings, load_settings
from shopsight.platform import Platform
from shopsight.records import LakeRecord, RecordKind

__version__ = "0.1.0"

__all__ = ["LakeRecord", "Platform", "RecordKind", "Settings", "__version__", "load_settings"]

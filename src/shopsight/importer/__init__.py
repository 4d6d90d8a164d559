"""File import: CSV / TSV / JSON / NDJSON / Parquet rows -> events and entities, by YAML mappings.

The names load on first use: ``shopsight import --help`` reads the mapping module only, not the
import run (pyarrow, SQLAlchemy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsight.lazy import lazy_exports

if TYPE_CHECKING:
    from shopsight.importer.mapping import Mapping, builtin_mapping_names, load_mapping, parse_mapping
    from shopsight.importer.run import Importer, ImportReport

__all__ = ["ImportReport", "Importer", "Mapping", "builtin_mapping_names", "load_mapping", "parse_mapping"]

__getattr__ = lazy_exports(
    __name__,
    {
        "ImportReport": "shopsight.importer.run",
        "Importer": "shopsight.importer.run",
        "Mapping": "shopsight.importer.mapping",
        "builtin_mapping_names": "shopsight.importer.mapping",
        "load_mapping": "shopsight.importer.mapping",
        "parse_mapping": "shopsight.importer.mapping",
    },
)

"""File import: CSV / TSV / JSON / NDJSON / Parquet rows -> events and entities, by YAML mappings."""

from shopsight.importer.mapping import Mapping, builtin_mapping_names, load_mapping, parse_mapping
from shopsight.importer.run import Importer, ImportReport

__all__ = ["ImportReport", "Importer", "Mapping", "builtin_mapping_names", "load_mapping", "parse_mapping"]

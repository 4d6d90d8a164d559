"""DuckDB engine: the embedded default warehouse."""

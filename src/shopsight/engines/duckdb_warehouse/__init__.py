"""DuckDB warehouse engine (the embedded default)."""

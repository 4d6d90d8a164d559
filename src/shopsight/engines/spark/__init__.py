"""PySpark engine: the scale-out warehouse (local mode in tests)."""

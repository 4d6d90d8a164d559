"""PySpark warehouse engine (scale-out; local mode in tests)."""

"""Machine learning on warehouse data; models receive Arrow tables or numpy arrays, never an engine."""

"""The metadata store: sources, dedup ids, dead letters and pipeline state (SQLite or PostgreSQL)."""

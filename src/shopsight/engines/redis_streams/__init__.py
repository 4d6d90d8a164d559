"""redis_streams package."""

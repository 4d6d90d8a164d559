"""entities package."""

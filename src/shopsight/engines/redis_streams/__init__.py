"""Scale-out event log: a Redis stream shared by every collector process (``redis://`` URLs)."""

"""Local filesystem object store (the embedded lake)."""

"""The ``shopsight`` command line (typer + rich)."""

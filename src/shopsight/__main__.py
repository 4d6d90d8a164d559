"""``python -m shopsight``."""

from shopsight.cli.main import main

main()

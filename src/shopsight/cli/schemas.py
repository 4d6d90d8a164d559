"""``shopsight schemas``: the published JSON Schemas of events and entities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from shopsight.cli.common import console

schemas_app = typer.Typer(help="JSON Schemas of every event and entity, with field classifications.")


@schemas_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the schemas into.")] = Path("schemas"),
) -> None:
    """Write every schema as JSON under OUT (entities/, events/, events/ecommerce/)."""
    from shopsight.schemas import all_schemas  # the lake layout's pyarrow: not for --help

    schemas = all_schemas()
    for relative, schema in schemas.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(schema))
    console.print(f"wrote {len(schemas)} schemas under {out}")


@schemas_app.command("list")
def list_command() -> None:
    """Every published schema with its title and number of fields."""
    from shopsight.schemas import all_schemas

    table = Table("schema", "title", "fields")
    for relative, schema in all_schemas().items():
        table.add_row(relative, str(schema.get("title", "")), str(len(schema.get("properties", {}))))
    console.print(table)


def render(schema: dict[str, object]) -> bytes:
    """Stable bytes of one schema file (sorted keys, indented, trailing newline)."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def register(app: typer.Typer) -> None:
    """Add the ``schemas`` group."""
    app.add_typer(schemas_app, name="schemas")

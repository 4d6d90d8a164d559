"""``shopsight audit``: verify the tamper-evident audit ledger, read it, and hand out proofs and heads."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from shopsight.cli.common import console, err_console, fail, platform_for
from shopsight.security.ledger.signing import SignedTreeHead

if TYPE_CHECKING:  # the ledger's SQLAlchemy tables load only when a command runs, not for --help
    from shopsight.platform import Platform
    from shopsight.security.ledger import AuditEntry, LedgerAudit, VerifyReport

audit_app = typer.Typer(
    help="The tamper-evident audit ledger: verify it, read it, export proofs and signed tree heads.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    """How to print."""

    table = "table"
    json = "json"


class HeadWithKey(BaseModel):
    """The latest signed tree head and the public key that checks it."""

    head: SignedTreeHead
    public_key_pem: str


def _audit(platform: Platform) -> LedgerAudit:
    from shopsight.security.audit_factory import open_audit

    return open_audit(platform)


def _print_json(model: BaseModel | list[AuditEntry]) -> None:
    if isinstance(model, list):
        payload = [entry.model_dump(mode="json") for entry in model]
        typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(model.model_dump_json(indent=2))


def _load_head(path: Path) -> SignedTreeHead:
    try:
        raw = orjson.loads(path.read_bytes())
        # Accept both a bare head and the output of `audit head --format json`.
        return SignedTreeHead.model_validate(raw.get("head", raw) if isinstance(raw, dict) else raw)
    except (OSError, orjson.JSONDecodeError, ValidationError) as error:
        fail(f"{path}: not a signed tree head ({str(error).splitlines()[0]})")
        raise  # unreachable: fail() exits


def _show_verdict(report: VerifyReport) -> None:
    if report.ok:
        against = (
            f", consistent with the saved head of {report.saved_head_size}" if report.saved_head_size else ""
        )
        console.print(
            f"[green]ledger {report.ledger!r} intact[/]: {report.tree_size} entries, "
            f"root {report.root_hash}{against}",
            highlight=False,
        )
        return
    err_console.print(
        f"[bold red]ledger {report.ledger!r} TAMPERED[/] at entry {report.first_bad_index}: {report.reason}",
        highlight=False,
    )
    err_console.print(f"the first {report.tree_size} entries check out (root {report.root_hash})")


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    head: Annotated[
        Path | None,
        typer.Option(
            "--head",
            help="A signed tree head saved earlier (audit head --format json): also "
            "prove the ledger still contains it, which catches a truncated tail.",
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.table,
) -> None:
    """Recheck every entry, hash and signature. Exit 0 when intact, 1 naming the first bad entry."""
    saved = _load_head(head) if head is not None else None
    with platform_for(ctx) as platform:
        report = _audit(platform).ledger.verify(saved_head=saved)
    if output is OutputFormat.json:
        _print_json(report)
    else:
        _show_verdict(report)
    if not report.ok:
        raise typer.Exit(1)


def _entries_table(entries: list[AuditEntry]) -> Table:
    table = Table("#", "at (UTC)", "action", "actor", "subject", title="audit log")
    table.add_column("details", overflow="fold")
    for entry in entries:
        details = orjson.dumps(entry.details, option=orjson.OPT_SORT_KEYS).decode() if entry.details else ""
        table.add_row(
            str(entry.index), entry.at.isoformat(timespec="seconds"), entry.action, entry.actor,
            entry.subject or "", details,
        )  # fmt: skip
    return table


@audit_app.command("log")
def log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show the newest N entries.")] = 50,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action, e.g. auth.login.failed.")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.table,
) -> None:
    """Show the newest audit records, oldest of them first."""
    with platform_for(ctx) as platform:
        entries = _audit(platform).read(limit=limit, action=action)
    if output is OutputFormat.json:
        _print_json(entries)
    else:
        console.print(_entries_table(entries))


@audit_app.command("proof")
def proof(
    ctx: typer.Context,
    index: Annotated[
        int | None, typer.Option("--index", min=0, help="Inclusion proof of this entry.")
    ] = None,
    size: Annotated[int | None, typer.Option("--size", min=1, help="...in the tree of this size.")] = None,
    first: Annotated[
        int | None, typer.Option("--first", min=1, help="Consistency proof from this size.")
    ] = None,
    second: Annotated[
        int | None, typer.Option("--second", min=1, help="...to this size (default now).")
    ] = None,
) -> None:
    """Print an RFC 6962 inclusion proof (--index [--size]) or consistency proof (--first [--second])."""
    if (index is None) == (first is None):
        fail("give either --index (inclusion proof) or --first (consistency proof)")
    with platform_for(ctx) as platform:
        ledger = _audit(platform).ledger
        answer: BaseModel = (
            ledger.inclusion_proof(index, size)
            if index is not None
            else ledger.consistency_proof(first or 0, second)
        )
    _print_json(answer)


@audit_app.command("head")
def head(
    ctx: typer.Context,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.table,
) -> None:
    """Print the latest signed tree head and the public key; save the JSON to verify against later."""
    with platform_for(ctx) as platform:
        ledger = _audit(platform).ledger
        answer = HeadWithKey(head=ledger.head(), public_key_pem=ledger.verifier.public_key_pem)
    if output is OutputFormat.json:
        _print_json(answer)
        return
    table = Table("field", title=f"signed tree head of ledger {answer.head.ledger!r}")
    table.add_column("value", overflow="fold")  # hashes and signatures must print whole
    for name, value in answer.head.model_dump().items():
        table.add_row(name, str(value))
    console.print(table)
    console.print(answer.public_key_pem, highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``audit`` group."""
    app.add_typer(audit_app, name="audit")

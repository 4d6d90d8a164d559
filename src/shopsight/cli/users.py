"""``shopsight users``: create, list, disable users, reset their MFA or password from the command line."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from pydantic import ValidationError
from rich.table import Column, Table

from shopsight.cli.common import console, fail, platform_for
from shopsight.security.identity.models import MfaEnrollment, UserCreate, UserPublic
from shopsight.security.identity.roles import Role

if TYPE_CHECKING:  # SQLAlchemy and the key store load only when a command runs, not for --help
    from shopsight.platform import Platform
    from shopsight.security.identity.service import IdentityService

CLI_ACTOR = "cli"

users_app = typer.Typer(help="Manage users, their roles and their MFA.", no_args_is_help=True)


class UsersFormat(StrEnum):
    """Output of ``users list``."""

    table = "table"
    json = "json"


def _identity(platform: Platform) -> IdentityService:
    from shopsight.security.identity.service import IdentityService

    return IdentityService.for_platform(platform)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _new_user(
    email: str, role: Role, stores: list[str], regions: list[str], pii_clearance: bool
) -> UserCreate:
    try:
        return UserCreate(email=email, role=role, stores=stores, regions=regions, pii_clearance=pii_clearance)
    except ValidationError as exc:
        fail(f"{email}: {exc.errors()[0]['msg']}")
        raise  # unreachable: fail() exits


def _show_enrollment(enrollment: MfaEnrollment, qr_svg: Path | None) -> None:
    console.print("This role requires MFA. Add this to an authenticator app (shown only this once):")
    console.print(enrollment.provisioning_uri, soft_wrap=True, highlight=False, markup=False)
    if qr_svg is not None:
        fd = os.open(qr_svg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(enrollment.qr_svg)
        console.print(f"QR code written to {qr_svg}", highlight=False)
    console.print("Recovery codes (each works once; store them offline):")
    for code in enrollment.recovery_codes:
        console.print(f"  {code}", highlight=False, markup=False)
    console.print("MFA is confirmed with the first code at sign-in.")


@users_app.command("create")
def create(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="E-mail address (sign-in name) of the new user.")],
    role: Annotated[Role, typer.Option("--role", help="The user's role.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    store: Annotated[list[str] | None, typer.Option("--store", help="Limit to a store (repeatable).")] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Limit to a region (repeatable).")
    ] = None,
    pii_clearance: Annotated[
        bool, typer.Option("--pii-clearance", help="May see clear PII (needs MFA).")
    ] = False,
    qr_svg: Annotated[Path | None, typer.Option("--qr-svg", help="Also write the TOTP QR code here.")] = None,
) -> None:
    """Create a user; for roles that require MFA print the TOTP provisioning URI and recovery codes once."""
    new = _new_user(email, role, store or [], region or [], pii_clearance)
    password = _read_password(password_stdin)
    with platform_for(ctx) as platform:
        service = _identity(platform)
        user = service.create_user(new, password=password, actor=CLI_ACTOR)
        enrollment = service.enroll_mfa(user.email, password=password) if user.mfa_required else None
    console.print(f"created {user.email} ({user.role.value}), id {user.id}", highlight=False)
    if enrollment is not None:
        _show_enrollment(enrollment, qr_svg)


def _scope(values: list[str]) -> str:
    return ", ".join(values) if values else "all"


def _users_table(users: list[UserPublic]) -> Table:
    table = Table("role", "stores", "regions", "pii", "mfa", "status", "created at")
    table.columns.insert(0, Column("email", no_wrap=True))
    for user in users:
        mfa = "on" if user.mfa_enabled else ("required, not set" if user.mfa_required else "off")
        status = "disabled" if user.disabled else ("locked" if user.locked_until else "active")
        table.add_row(
            user.email,
            user.role.value,
            _scope(user.stores),
            _scope(user.regions),
            "yes" if user.pii_clearance else "no",
            mfa,
            status,
            user.created_at.isoformat(timespec="seconds"),
        )
    return table


@users_app.command("list")
def list_(
    ctx: typer.Context,
    output: Annotated[UsersFormat, typer.Option("--format", help="table or json.")] = UsersFormat.table,
) -> None:
    """List users with role, scope, PII clearance and MFA state (never a secret)."""
    with platform_for(ctx) as platform:
        users = _identity(platform).list_users()
    if output is UsersFormat.json:
        rows = [user.model_dump(mode="json") | {"mfa_required": user.mfa_required} for user in users]
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    else:
        console.print(_users_table(users))


@users_app.command("disable")
def disable(ctx: typer.Context, email: Annotated[str, typer.Argument(help="The user's e-mail.")]) -> None:
    """Stop a user from signing in."""
    with platform_for(ctx) as platform:
        user = _identity(platform).disable_user(email, actor=CLI_ACTOR)
    console.print(f"disabled {user.email}", highlight=False)


@users_app.command("reset-mfa")
def reset_mfa(ctx: typer.Context, email: Annotated[str, typer.Argument(help="The user's e-mail.")]) -> None:
    """Remove a user's TOTP secret and recovery codes; they enroll again at their next sign-in."""
    with platform_for(ctx) as platform:
        user = _identity(platform).reset_mfa(email, actor=CLI_ACTOR)
    console.print(f"MFA reset for {user.email}; they enroll again at next sign-in", highlight=False)


@users_app.command("reset-password")
def reset_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from the first line of stdin.")
    ] = False,
) -> None:
    """Give a user a new password (the policy applies); every session of theirs ends."""
    password = _read_password(password_stdin)
    with platform_for(ctx) as platform:  # a policy breach or unknown user exits 2 with the reason
        service = _identity(platform)
        user = service.reset_password(email, new_password=password, actor=CLI_ACTOR)
    console.print(f"password reset for {user.email}; their sessions were ended", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``users`` group."""
    app.add_typer(users_app, name="users")

"""Engine connections checked at start-up: never a well-known default password, and verified TLS on demand.

Every engine URL (``Settings.*_url``, ``shopsight publish --to``) passes :func:`check_engine_url` before
anything connects. A URL whose password is a well-known default (``postgres``, ``changeme``, the user's own
name...) or explicitly empty is always refused (ASVS V13.2.3). With ``require_engine_tls`` on, every link
that leaves the process must also be TLS that checks the server against a CA the operator names, never the
system store (V12.3.1, V12.3.2, V12.3.4):

- PostgreSQL: ``sslmode=verify-full`` and ``sslrootcert=<CA file>`` in the URL (libpq then checks the chain
  and the host name); ``sslcert=`` / ``sslkey=`` add a client certificate, so no password is needed.
- Redis: ``rediss://`` with ``ssl_ca_certs=<CA file>``; ``ssl_cert_reqs`` may only be ``required`` and
  ``ssl_check_hostname`` may not be turned off; ``ssl_certfile=`` / ``ssl_keyfile=`` add a client certificate.
- Local files (``file://``, ``sqlite://``, ``duckdb://``) and Spark in local mode do not leave the machine.
- A Spark cluster (``spark://HOST:PORT``) is refused: ShopSight does not configure Spark's RPC encryption.

Messages name the setting and the URL without its credentials or options.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from shopsight.errors import ConfigError

ENGINE_URL_SETTINGS = ("lake_url", "warehouse_url", "metadata_url", "event_log_url", "key_store_url")
LOCAL_SCHEMES = frozenset({"file", "sqlite", "sqlite+pysqlite", "duckdb"})
POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})
REDIS_SCHEMES = frozenset({"redis", "rediss"})
# Passwords that ship as defaults or examples with the engines we talk to (and the usual suspects); a
# password equal to the user name is refused as well.
DEFAULT_PASSWORDS = frozenset(
    {
        "postgres", "password", "passw0rd", "admin", "root", "changeme", "change-me", "secret",
        "redis", "foobared", "shopsight", "guest", "default", "test", "pass", "123456", "minioadmin",
    }
)  # fmt: skip
_FALSE_WORDS = frozenset({"0", "f", "false", "n", "no", "off"})


def check_engine_urls(urls: Mapping[str, str], *, require_tls: bool) -> None:
    """Check every ``setting name -> URL``; the first problem raises :class:`ConfigError`."""
    for name, url in urls.items():
        check_engine_url(name, url, require_tls=require_tls)


def check_engine_url(name: str, url: str, *, require_tls: bool) -> None:
    """Refuse ``url`` (named ``name`` in the message) with a default password, or without verified TLS."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in LOCAL_SCHEMES or (scheme == "spark" and rest.startswith("local")):
        return
    try:
        parts = urlsplit(url)
        where = f"{name} ({describe(parts)})"
    except ValueError as error:
        raise ConfigError(f"{name} is not a valid URL: {error}") from None
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    _refuse_default_password(where, parts, options)
    problem = _tls_problem(scheme, options) if require_tls else None
    if problem:
        raise ConfigError(f"{where}: {problem} (require_engine_tls is on)")


def describe(parts: SplitResult) -> str:
    """The URL without user, password or options: safe for messages and logs."""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{port}{parts.path}"


def _refuse_default_password(where: str, parts: SplitResult, options: Mapping[str, str]) -> None:
    password = unquote(parts.password) if parts.password is not None else options.get("password")
    if password is None:
        return
    user = unquote(parts.username or "") or options.get("user", "")
    if password == "":
        raise ConfigError(f"{where} has an empty password; set the account's own secret or drop the ':'")
    if password.lower() in DEFAULT_PASSWORDS or password == user:
        raise ConfigError(
            f"{where} uses a well-known default password; give the account its own secret "
            "or log in with a client certificate"
        )


def _tls_problem(scheme: str, options: Mapping[str, str]) -> str | None:
    """Why this network link is not verified TLS against a named CA, or None when it is."""
    if scheme in POSTGRES_SCHEMES:
        return _postgres_tls_problem(options)
    if scheme in REDIS_SCHEMES:
        return _redis_tls_problem(scheme, options)
    if scheme == "spark":
        return "a Spark cluster link is not encrypted by ShopSight; use spark://local[N]"
    if scheme == "https":
        return None  # httpx checks the certificate and host name against the system CA store
    return f"cannot tell whether a {scheme}:// link is encrypted"


def _postgres_tls_problem(options: Mapping[str, str]) -> str | None:
    if options.get("sslmode") != "verify-full":
        return "PostgreSQL needs sslmode=verify-full (TLS with certificate and host name checks)"
    return _ca_file_problem(options.get("sslrootcert"), "sslrootcert")


def _redis_tls_problem(scheme: str, options: Mapping[str, str]) -> str | None:
    if scheme != "rediss":
        return "Redis needs rediss:// (TLS); redis:// is plain text"
    if options.get("ssl_cert_reqs", "required") != "required":
        return "Redis needs ssl_cert_reqs=required (or no ssl_cert_reqs)"
    if options.get("ssl_check_hostname", "true").lower() in _FALSE_WORDS:
        return "Redis must check the server's host name (drop ssl_check_hostname)"
    return _ca_file_problem(options.get("ssl_ca_certs"), "ssl_ca_certs")


def _ca_file_problem(path: str | None, option: str) -> str | None:
    if not path or path == "system":
        return f"name the CA that signs the server's certificate with {option}=<file> (not the system store)"
    if not Path(path).is_file():
        return f"the {option} file does not exist"
    return None

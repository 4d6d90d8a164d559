"""Throw-away PostgreSQL and Redis servers that accept TLS connections only, for the engine-link tests.

PostgreSQL comes from the machine's ``/usr/lib/postgresql/<version>/bin`` and Redis from ``redis-server`` on
PATH (built with TLS). ``initdb`` refuses to run as root, so as root the PostgreSQL tools run as the
``postgres`` system user (``runuser``) in a folder handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shopsight.testing.crash import free_port
from shopsight.testing.tls import LOCAL


@dataclass(frozen=True)
class ServerTls:
    """What a server presents (certificate and key) and the CA it checks client certificates against."""

    cert: Path
    key: Path
    client_ca: Path


@dataclass(frozen=True)
class ThrowawayPostgres:
    """A running server: TCP on 127.0.0.1 (TLS only) and a Unix socket where ``postgres`` logs in."""

    port: int
    socket_dir: Path

    @property
    def admin_url(self) -> str:
        """The superuser over the Unix socket (trust), for setting up roles and databases."""
        return f"postgresql://postgres@/postgres?host={self.socket_dir}&port={self.port}"


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding ``initdb``, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@contextmanager
def tls_postgres(tls: ServerTls, hba: list[str]) -> Iterator[ThrowawayPostgres]:
    """A fresh cluster with ``ssl = on`` and ``hba`` as its only TCP rules; stopped and deleted after."""
    binaries = postgres_bin()
    if binaries is None:
        raise FileNotFoundError("no PostgreSQL server binaries under /usr/lib/postgresql")
    folder = Path(tempfile.mkdtemp(prefix="shopsight-pg-"))
    try:
        server = _start_postgres(binaries, folder, tls, hba)
        try:
            yield server
        finally:
            _as_postgres_user(binaries / "pg_ctl", "-D", str(folder / "data"), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _start_postgres(binaries: Path, folder: Path, tls: ServerTls, hba: list[str]) -> ThrowawayPostgres:
    for source, target in ((tls.cert, "server.pem"), (tls.key, "server.key"), (tls.client_ca, "ca.pem")):
        shutil.copy(source, folder / target)
    (folder / "server.key").chmod(0o600)
    _hand_to_postgres_user(folder)
    data, port = folder / "data", free_port()
    _as_postgres_user(binaries / "initdb", "-D", str(data), "-U", "postgres", "-A", "reject", "--no-sync")
    (data / "pg_hba.conf").write_text("\n".join(["local all postgres trust", *hba]) + "\n")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '{LOCAL}'\nport = {port}\nunix_socket_directories = '{folder}'\n"
            f"ssl = on\nssl_cert_file = '{folder / 'server.pem'}'\nssl_key_file = '{folder / 'server.key'}'\n"
            f"ssl_ca_file = '{folder / 'ca.pem'}'\nssl_min_protocol_version = 'TLSv1.2'\nfsync = off\n"
        )
    _as_postgres_user(binaries / "pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "start")
    return ThrowawayPostgres(port=port, socket_dir=folder)


def _hand_to_postgres_user(folder: Path) -> None:
    if os.geteuid() != 0:
        return
    owner = pwd.getpwnam("postgres")
    for path in (folder, *folder.iterdir()):
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _as_postgres_user(program: Path, *args: str) -> None:
    command = [str(program), *args]
    if os.geteuid() == 0:  # initdb and postgres refuse root
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{program.name} failed: {done.stderr.strip() or done.stdout.strip()}")


@contextmanager
def tls_redis(tls: ServerTls, folder: Path) -> Iterator[int]:
    """``redis-server`` on a TLS port only (``--port 0``), demanding a client certificate; yields the port."""
    port = free_port()
    command = [
        "redis-server", "--bind", LOCAL, "--port", "0", "--tls-port", str(port),
        "--tls-cert-file", str(tls.cert), "--tls-key-file", str(tls.key),
        "--tls-ca-cert-file", str(tls.client_ca), "--tls-auth-clients", "yes",
        "--save", "", "--appendonly", "no", "--dir", str(folder),
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as server:
        try:
            _wait_for_port(port, server)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=10)


def _wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode() if server.stdout else ""
            raise RuntimeError(f"redis-server exited: {output.strip()[-500:]}")
        try:
            socket.create_connection((LOCAL, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"redis-server did not listen on {port} within {timeout} s")

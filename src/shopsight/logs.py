"""Structured JSON logs (structlog) for every process. Never log PII or secrets.

Every line goes to stderr; with ``log_syslog_address`` set the same JSON line is also sent to a syslog
collector, so the logs survive the host (ASVS 5.0 V16.4.3): ``tls://host:6514`` (RFC 5425: the collector's
certificate is verified against the system CAs, or ``?ca=/path/ca.pem``), or in the clear
``udp://host:514`` / ``tcp://host:601`` (a collector on the same host or network segment), or a local
socket path such as ``/dev/log``. ``docs/security/logging.md`` lists every destination;
``DESTINATIONS`` below is what a test holds that document to.
"""

from __future__ import annotations

import logging
import socket
import ssl
import sys
from logging.handlers import SysLogHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog

# Where configure_logging sends the structured logs (docs/security/logging.md lists the same).
DESTINATIONS = ("stderr", "syslog")
SYSLOG_IDENT = "shopsight: "
SYSLOG_DEFAULT_PORT = 514
SYSLOG_TLS_PORT = 6514
_SOCKET_TYPES = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM, "tls": socket.SOCK_STREAM}


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at write time, so a swapped or captured stream never
    leaves the logger holding a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _Outputs:
    """The destinations of the rendered lines; ``configure_logging`` replaces them, and every logger, also
    one cached before, writes to the current ones."""

    stderr = _CurrentStderr()
    syslog: SysLogHandler | None = None


def parse_syslog_address(address: str) -> tuple[str | tuple[str, int], socket.SocketKind]:
    """``tls://``, ``udp://`` or ``tcp://host:port`` (ports 6514 / 514 when left out) or a socket path."""
    if address.startswith("/"):
        return address, socket.SOCK_DGRAM
    parts = urlsplit(address)
    if parts.scheme not in _SOCKET_TYPES or not parts.hostname:
        raise ValueError(f"syslog address must be tls://, udp:// or tcp://host:port, or a path: {address!r}")
    default_port = SYSLOG_TLS_PORT if parts.scheme == "tls" else SYSLOG_DEFAULT_PORT
    return (parts.hostname, parts.port or default_port), _SOCKET_TYPES[parts.scheme]


class TlsSysLogHandler(SysLogHandler):
    """Syslog over TLS (RFC 5425): the collector's certificate and name are verified, and each message is
    framed by its length in octets. Connects (and fails, if it cannot) when created."""

    socket: Any  # the connection (the standard library's attribute, which typeshed leaves undeclared)

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(address=address, socktype=socket.SOCK_STREAM)

    def createSocket(self) -> None:
        """Connect, then wrap the connection in TLS."""
        super().createSocket()
        self.socket = self._context.wrap_socket(self.socket, server_hostname=self.address[0])

    def emit(self, record: logging.LogRecord) -> None:
        """Send ``<priority>ident message`` behind its octet count."""
        try:
            priority = self.encodePriority(self.facility, self.mapPriority(record.levelname))
            frame = f"<{priority}>{self.ident}{self.format(record)}".encode()
            if not self.socket:
                self.createSocket()
            self.socket.sendall(b"%d " % len(frame) + frame)
        except Exception:
            self.handleError(record)


def _tls_context(address: str) -> ssl.SSLContext:
    """The system CAs, or only the ``ca`` file the address names."""
    ca_files = parse_qs(urlsplit(address).query).get("ca")
    return ssl.create_default_context(cafile=ca_files[0] if ca_files else None)


def _syslog_handler(address: str) -> SysLogHandler:
    target, kind = parse_syslog_address(address)
    if address.startswith("tls://") and isinstance(target, tuple):
        handler: SysLogHandler = TlsSysLogHandler(target, _tls_context(address))
    else:
        handler = SysLogHandler(address=target, socktype=kind)
    handler.ident = SYSLOG_IDENT
    handler.append_nul = False
    # Plain TCP carries many messages: end each with a newline (RFC 6587 non-transparent framing); TLS
    # frames by length instead, and a datagram is one message.
    framing = "%(message)s\n" if address.startswith("tcp://") else "%(message)s"
    handler.setFormatter(logging.Formatter(framing))
    return handler


class JsonLines:
    """structlog's output: each rendered line to stderr and, when configured, to syslog at its level."""

    def _write(self, level: int, line: str) -> None:
        _Outputs.stderr.write(line + "\n")
        if _Outputs.syslog is not None:
            record = logging.makeLogRecord(
                {"msg": line, "levelno": level, "levelname": logging.getLevelName(level)}
            )
            _Outputs.syslog.handle(record)

    def debug(self, message: str) -> None:
        """A debug line."""
        self._write(logging.DEBUG, message)

    def info(self, message: str) -> None:
        """An info line."""
        self._write(logging.INFO, message)

    def warning(self, message: str) -> None:
        """A warning line."""
        self._write(logging.WARNING, message)

    def error(self, message: str) -> None:
        """An error line (``exception`` ends here too)."""
        self._write(logging.ERROR, message)

    def critical(self, message: str) -> None:
        """A critical line."""
        self._write(logging.CRITICAL, message)

    msg = info


def configure_logging(level: str = "INFO", *, syslog_address: str = "") -> None:
    """Send JSON lines with a timestamp and level to stderr, and to syslog when an address is given."""
    previous, _Outputs.syslog = _Outputs.syslog, _syslog_handler(syslog_address) if syslog_address else None
    if previous is not None:
        previous.close()
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_args: JsonLines(),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger bound to ``name``."""
    return structlog.get_logger(name)  # type: ignore[no-any-return]

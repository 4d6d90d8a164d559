"""RedisStreamsEventLog: the scale-out ``EventLog``, one Redis stream shared by many processes.

Format: record ``n`` is the stream entry with ID ``<n+1>-0`` (``0-0`` is not a valid ID) and a single
field ``p`` holding the payload bytes. The stream is one key, named by the URL's ``stream`` query
parameter (``redis://host:6379/0?stream=shop-events``; default ``shopsight:events``); nothing else is
stored. ``append`` runs one Lua script that reads the stream's last generated ID and ``XADD``s the whole
batch right after it, so a batch is atomic and offsets stay dense across every thread and process.
``XADD`` itself refuses an ID at or below the stream's top, so a stale offset can never overwrite data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from shopsight.engines.redis_streams.errors import RedisRefused, RedisUnavailable
from shopsight.errors import AuthError, ConfigError, ShopSightError
from shopsight.ports import LogCapabilities, LogRecord

DEFAULT_STREAM = "shopsight:events"
PAYLOAD_FIELD = b"p"

# Offset the next record gets: the numeric part of the stream's last generated ID (kept by Redis even
# after XDEL or trimming), or 0 for a stream that does not exist yet.
_NEXT_OFFSET_LUA = """
local function next_offset(key)
  if redis.call('EXISTS', key) == 0 then
    return 0
  end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      return tonumber(string.match(info[i + 1], '^(%d+)-'))
    end
  end
  return redis.error_reply('stream ' .. key .. ' has no last-generated-id')
end
"""

_APPEND_LUA = (
    _NEXT_OFFSET_LUA
    + """
local first = next_offset(KEYS[1])
for i = 1, #ARGV do
  redis.call('XADD', KEYS[1], string.format('%d-0', first + i), 'p', ARGV[i])
end
return first
"""
)

_END_OFFSET_LUA = _NEXT_OFFSET_LUA + "\nreturn next_offset(KEYS[1])\n"


class RedisStreamsEventLog:
    """Append-only log in one Redis stream; any number of processes may append at once.

    Durability is the server's: ``append`` returns once Redis has applied the batch, which is on disk
    only if the server runs ``appendonly yes`` with ``appendfsync always``. ``capabilities.fsync_durable``
    is read from ``CONFIG GET`` when the log is opened (False when CONFIG is not allowed, as on many
    managed services) and is not re-checked later. If the connection drops after Redis ran an append
    but before the reply arrived, the client retries and the batch can be stored twice (at-least-once);
    the collector and compaction drop such duplicates by event id.
    """

    def __init__(self, url: str, stream: str | None = None, *, read_only: bool = False) -> None:
        client_url, url_stream = split_stream_url(url)
        self.stream = stream or url_stream or DEFAULT_STREAM
        self._where = describe_url(client_url)
        self._read_only = read_only
        self._closed = False
        self._client = _connect(client_url)
        self._append_script = self._client.register_script(_APPEND_LUA)
        self._end_script = self._client.register_script(_END_OFFSET_LUA)
        self.capabilities = self._probe()

    def append(self, payloads: Sequence[bytes]) -> list[int]:
        """Append the whole batch atomically; return its dense, consecutive offsets."""
        self._check_open()
        if self._read_only:
            raise ShopSightError("event log opened read-only")
        if not payloads:
            return []
        with self._errors():
            first = int(self._append_script(keys=[self.stream], args=list(payloads)))
        return list(range(first, first + len(payloads)))

    def read(self, start: int, max_records: int) -> list[LogRecord]:
        """Records with offset >= ``start``, up to ``max_records``, in order."""
        self._check_open()
        if max_records <= 0:
            return []
        with self._errors():
            entries = self._client.xrange(self.stream, min=f"{max(start, 0) + 1}-0", count=max_records)
        return [_record(entry_id, fields) for entry_id, fields in cast(list[Any], entries)]

    def end_offset(self) -> int:
        """The offset the next record will get (= number of records ever appended)."""
        self._check_open()
        with self._errors():
            return int(self._end_script(keys=[self.stream]))

    def close(self) -> None:
        """Release the client's connections; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._client.close()

    def _probe(self) -> LogCapabilities:
        """First contact with the server, so a wrong URL or a dead server fails at open, clearly."""
        try:
            with self._errors():
                durable = _fsync_durable(self._client)
        except TypeError as exc:  # an unknown ?option= reaches redis-py's connection class only now
            self._client.close()
            raise ConfigError(f"bad Redis event log URL {self._where}: {exc}") from exc
        except ShopSightError:
            self._client.close()
            raise
        return LogCapabilities(fsync_durable=durable, shared_between_processes=True)

    def _check_open(self) -> None:
        if self._closed:
            raise ShopSightError("event log is closed")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            raise _translate(exc, self._where, self.stream) from exc


def split_stream_url(url: str) -> tuple[str, str | None]:
    """Split ``redis://...?stream=NAME`` into the URL for redis-py and the stream name (if given)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    streams = [value for key, value in query if key == "stream"]
    if streams and not streams[-1]:
        raise ConfigError(f"event log URL {describe_url(url)} has an empty stream= name")
    rest = urlencode([(key, value) for key, value in query if key != "stream"])
    return urlunsplit(parts._replace(query=rest)), streams[-1] if streams else None


def describe_url(url: str) -> str:
    """The URL without credentials or options, fit for error messages."""
    parts = urlsplit(url)
    try:
        port = parts.port or 6379
    except ValueError:
        port = 0
    return f"{parts.scheme}://{parts.hostname or 'localhost'}:{port}{parts.path or '/0'}"


def _connect(url: str) -> redis.Redis:
    try:
        # URL query options (socket_timeout=..., ...) override these defaults. Short retries ride out a
        # dropped connection or failover without making a dead server take many seconds to report.
        return redis.Redis.from_url(
            url,
            socket_connect_timeout=5.0,
            socket_timeout=30.0,
            retry=Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.1), retries=3),
        )
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"bad Redis event log URL {describe_url(url)}: {exc}") from exc


def _fsync_durable(client: redis.Redis) -> bool:
    """True only when Redis fsyncs its append-only file before it answers a write."""
    try:
        config = cast(dict[str, str], client.config_get("append*"))
    except redis.ResponseError:  # CONFIG disabled or not permitted: assume the weaker guarantee
        return False
    return config.get("appendonly") == "yes" and config.get("appendfsync") == "always"


def _record(entry_id: bytes, fields: dict[bytes, bytes]) -> LogRecord:
    return LogRecord(int(entry_id.split(b"-", 1)[0]) - 1, fields[PAYLOAD_FIELD])


def _translate(exc: redis.RedisError, where: str, stream: str) -> ShopSightError:
    """One-line ShopSightError for a redis-py error; credentials never appear in the message."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, redis.AuthenticationError | redis.exceptions.NoPermissionError):
        return AuthError(f"Redis at {where} refused the event log's credentials: {detail}")
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return RedisUnavailable(f"cannot reach Redis at {where}: {detail}")
    if isinstance(exc, redis.exceptions.OutOfMemoryError | redis.ReadOnlyError):
        return RedisUnavailable(f"Redis at {where} cannot take writes: {detail}")
    if "WRONGTYPE" in str(exc):
        return ConfigError(f"Redis key {stream!r} at {where} is not a stream; choose another stream=")
    return RedisRefused(f"Redis at {where} refused an event log command: {detail}")

"""``docs/security/redis-acl.conf`` on the machine's Redis (ASVS V13.2.2): the event log's account appends
and reads its one stream through our own client and is refused every other key and command.

The rule is applied with ``ACL SETUSER`` under a user name, password and stream of this run, and the user
and stream are deleted afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from shopsight.engines.redis_streams.client import RedisStreamsEventLog
from shopsight.errors import AuthError

pytestmark = pytest.mark.integration
ADMIN_URL = "redis://127.0.0.1:6379/0"
RULE_FILE = Path(__file__).resolve().parents[2] / "docs" / "security" / "redis-acl.conf"


@dataclass(frozen=True)
class Account:
    """The ACL user of this run and the stream it may use."""

    user: str
    password: str
    stream: str

    @property
    def url(self) -> str:
        """The event log URL logging in as this user."""
        return f"redis://{self.user}:{self.password}@127.0.0.1:6379/0?stream={self.stream}"


def documented_rules(account: Account) -> list[str]:
    """The documented ``user`` line, with this run's password and stream, as ACL SETUSER arguments."""
    lines = [line for line in RULE_FILE.read_text().splitlines() if line.startswith("user ")]
    assert len(lines) == 1
    _user, _name, *rules = lines[0].split()
    rules = [rule.replace("<password>", account.password) for rule in rules]
    return [f"~{account.stream}" if rule == "~shopsight:events" else rule for rule in rules]


@pytest.fixture
def account() -> Iterator[Account]:
    tag = secrets.token_hex(4)
    made = Account(f"shopsight-lp-{tag}", secrets.token_urlsafe(24), f"shopsight-lp:{tag}:events")
    with redis.Redis.from_url(ADMIN_URL) as admin:
        assert f"~{made.stream}" in documented_rules(made)  # the documented key pattern was substituted
        admin.execute_command("ACL", "SETUSER", made.user, *documented_rules(made))
        try:
            yield made
        finally:
            admin.execute_command("ACL", "DELUSER", made.user)
            admin.delete(made.stream, f"{made.stream}:other")


def test_the_event_log_account_uses_its_stream_and_nothing_else(account: Account) -> None:
    log = RedisStreamsEventLog(account.url)
    try:
        first = log.append([b"one", b"two"])[0]
        assert [r.payload for r in log.read(first, 10)] == [b"one", b"two"]
        assert log.end_offset() == first + 2
        assert log.capabilities.fsync_durable is False  # CONFIG is not granted, so it cannot tell
    finally:
        log.close()
    with redis.Redis.from_url(account.url.split("?")[0]) as client:
        for command in (
            ("GET", "some:other:key"),
            ("XADD", f"{account.stream}:other", "*", "p", "x"),
            ("KEYS", "*"),
            ("CONFIG", "GET", "requirepass"),
            ("FLUSHALL",),
            ("EVAL", "return 1", "0"),
            ("ACL", "LIST"),
        ):
            with pytest.raises(redis.exceptions.NoPermissionError):
                client.execute_command(*command)


def test_another_stream_in_the_url_is_refused(account: Account) -> None:
    log = RedisStreamsEventLog(account.url.replace(f"stream={account.stream}", "stream=shopsight:others"))
    try:
        with pytest.raises(AuthError, match="no permissions to access one of the keys"):
            log.append([b"x"])
    finally:
        log.close()

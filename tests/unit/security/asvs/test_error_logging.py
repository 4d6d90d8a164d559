"""An unexpected error in a route is logged and answered generically (ASVS V16.3.4, V16.5.1).

The log line carries an id the client is given, the route template, the method, the exception type and
where it was raised; not the path, query, headers, body or the exception's message, any of which may hold
a secret or personal data."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.logs import configure_logging
from shopsight.platform import Platform

SECRETS = ("hunter2", "4111111111111111", "ss_live_token_value", "jane.doe@example.com", "session-cookie-val")


@pytest.fixture
def crashing(platform: Platform) -> Iterator[TestClient]:
    app: FastAPI = create_app(platform)

    @app.post("/api/v1/asvs-probe/{customer_id}/crash", include_in_schema=False)
    def crash(customer_id: str) -> None:
        raise RuntimeError(f"db-password=hunter2 card 4111111111111111 for {customer_id}")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _log_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_an_unhandled_error_is_logged_with_an_id_and_where_but_no_secrets(
    crashing: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")
    capsys.readouterr()
    answer = crashing.post(
        "/api/v1/asvs-probe/jane.doe@example.com/crash?token=ss_live_token_value",
        headers={
            "Authorization": "Bearer ss_live_token_value",
            "Cookie": "shopsight_session=session-cookie-val",
        },
        json={"password": "hunter2"},
    )
    err = capsys.readouterr().err
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal server error", "error_id": answer.json()["error_id"]}
    assert "Traceback" not in answer.text and "RuntimeError" not in answer.text
    [entry] = [line for line in _log_lines(err) if line["event"] == "unhandled error"]
    assert entry["level"] == "error" and entry["error_id"] == answer.json()["error_id"]
    assert entry["route"] == "/api/v1/asvs-probe/{customer_id}/crash" and entry["method"] == "POST"
    assert entry["error_type"] == "builtins.RuntimeError"
    stack = entry["frames"]
    assert isinstance(stack, list) and any(
        "test_error_logging.py" in frame and "in crash" in frame for frame in stack
    )
    assert [secret for secret in SECRETS if secret in err] == []


def test_each_error_gets_its_own_id(crashing: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    ids = {crashing.post("/api/v1/asvs-probe/c1/crash").json()["error_id"] for _ in range(3)}
    logged = {
        line["error_id"] for line in _log_lines(capsys.readouterr().err) if line["event"] == "unhandled error"
    }
    assert len(ids) == 3 and logged == ids

from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopsight.api.app import create_app
from shopsight.cli.main import app
from shopsight.cli.quickstart import DEMO_LOGIN
from shopsight.config import load_settings
from shopsight.lake.reader import published_files
from shopsight.platform import Platform
from shopsight.testing.crash import free_port


def test_quickstart_loads_the_demo_into_the_lake_with_no_rejects(tmp_path: Path) -> None:
    args = [
        "--home",
        str(tmp_path),
        "quickstart",
        "--port",
        str(free_port()),
        "--events",
        "2000",
        "--no-serve",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert " 0 rejected" in result.output
    _assert_next_steps_copy_as_one_line_each(result.output)
    assert "warehouse: version" in result.output  # the warehouse is built, so KPIs answer straight away
    kpis = CliRunner().invoke(app, ["--home", str(tmp_path), "kpi", "show", "--metric", "orders,revenue",
                                    "--grain", "month", "--format", "json"])  # fmt: skip
    assert kpis.exit_code == 0, kpis.output
    months = orjson.loads(kpis.output)
    assert months and all(set(m) == {"period", "orders", "revenue"} for m in months)
    assert sum(m["orders"] for m in months) > 0
    platform = Platform(load_settings(home=tmp_path))
    try:
        assert sum(e.rows for e in published_files(platform.lake, kind="event")) > 1500
        kinds = {entry.kind for entry in published_files(platform.lake)}
        assert {"customer", "product", "order", "inventory_level", "marketing_spend"} <= kinds
        assert platform.dead_letters.count() == 0
        password = (tmp_path / "demo-login").read_text()
        assert "demo login" in result.output and password in result.output.replace("│", "").replace("\n", "")
        assert (tmp_path / "demo-login").stat().st_mode & 0o777 == 0o600
        with TestClient(create_app(platform)) as client:  # the printed login signs in and reads KPIs
            form = {"email": DEMO_LOGIN, "password": password}
            assert client.post("/api/v1/auth/login", json=form).status_code == 200
            assert client.get("/api/v1/kpis", params={"metrics": "orders"}).status_code == 200
    finally:
        platform.close()
    assert (tmp_path / "demo" / "write_key").stat().st_mode & 0o777 == 0o600


def _assert_next_steps_copy_as_one_line_each(output: str) -> None:
    """The printed commands are not wrapped at the terminal's width: pasted, each runs as printed."""
    lines = output.splitlines()
    curl = next(line for line in lines if line.startswith("curl "))
    body = curl.split(" -d ", 1)[1]
    assert orjson.loads(body.strip("'"))["event"] == "Order Completed"
    assert any(line.startswith("WRITE_KEY=ss_") for line in lines)
    kpi = next(line for line in lines if " kpi show " in line)
    assert kpi.startswith(".venv/bin/shopsight --home ") and kpi.endswith("--grain month")

"""KPI API under concurrent load vs the same KPI queries run directly on the engine.

The warehouse is built from N demo events (default 10M, the lake cached under ``--cache`` and shared with
``benchmarks.warehouse``). Then, with ``shopsight serve`` in its own process:

1. direct: each query of the mix through :class:`WarehouseReader` in this process (ibis on DuckDB, tables
   registered once, exactly what the route calls), sequentially;
2. API, one client: the same queries over HTTP, sequentially, signed in as an analyst (session cookie);
   its median over the direct median is the API's overhead as a ratio;
3. API under load: ``--clients`` concurrent clients in a second process, closed loop, for ``--seconds``;
   p50/p99 and requests/s. No client sends If-None-Match, so every request runs its query.

Run: ``.venv/bin/python -m benchmarks.api_kpis [--events N] [--clients C] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import statistics
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.warehouse import prepare_lake

ANALYST = "bench-analyst@example.com"


def build_warehouse(home: Path) -> None:
    """Publish the warehouse of the cached lake once (full refresh)."""
    from shopsight.config import load_settings
    from shopsight.engines import open_warehouse_engine
    from shopsight.platform import Platform
    from shopsight.warehouse.pipeline import RunOptions, run_pipeline

    if (home / "WAREHOUSE_READY").exists():
        return
    started = time.perf_counter()
    settings = load_settings(home=home)
    platform = Platform(settings)
    engine = open_warehouse_engine(settings)
    run_pipeline(settings, platform.lake, engine, options=RunOptions(full_refresh=True))
    engine.close()
    platform.close()
    (home / "WAREHOUSE_READY").write_text("ok")
    print(f"warehouse built in {time.perf_counter() - started:,.0f}s", flush=True)


def last_day(home: Path) -> date:
    """The last day with orders in the published warehouse."""
    from shopsight.config import load_settings
    from shopsight.engines import open_warehouse_engine
    from shopsight.warehouse.reader import WarehouseReader
    from shopsight.warehouse.slicing import KpiSlice
    from shopsight.warehouse.store import WarehouseStore

    settings = load_settings(home=home)
    reader = WarehouseReader(WarehouseStore(settings.warehouse_dir), lambda: open_warehouse_engine(settings))
    _version, table = reader.kpis(["orders"], "month", None, None, KpiSlice())
    reader.close()
    return max(table.column("period").to_pylist())  # type: ignore[no-any-return]


def query_mix(end: date) -> list[dict[str, str]]:
    """Dashboard-like KPI requests: daily trend, period comparison, sliced and weekly views."""
    start = end - timedelta(days=89)
    span = {"from": start.isoformat(), "to": end.isoformat()}
    return [
        {"metrics": "revenue,orders,aov", "grain": "day", **span},
        {"metrics": "revenue,aov,conversion_rate", "grain": "week", "compare": "previous_period", **span},
        {"metrics": "revenue,orders", "grain": "week", "country": "US", **span},
        {"metrics": "sessions,conversion_rate", "grain": "day", "device": "mobile", **span},
        {"metrics": "revenue", "grain": "month", "channel": "email"},
    ]  # fmt: skip


def direct_latencies(home: Path, queries: list[dict[str, str]], rounds: int) -> list[float]:
    """Seconds per query through the reader the route uses, in this process."""
    from shopsight.api.analytics_routes import _summary
    from shopsight.config import load_settings
    from shopsight.engines import open_warehouse_engine
    from shopsight.warehouse.reader import WarehouseReader
    from shopsight.warehouse.slicing import KpiSlice
    from shopsight.warehouse.store import WarehouseStore

    settings = load_settings(home=home)
    reader = WarehouseReader(WarehouseStore(settings.warehouse_dir), lambda: open_warehouse_engine(settings))
    timings: list[float] = []
    for query in itertools.islice(itertools.cycle(queries), rounds * len(queries)):
        names = query["metrics"].split(",")
        start = date.fromisoformat(query["from"]) if "from" in query else None
        end = date.fromisoformat(query["to"]) if "to" in query else None
        where = KpiSlice(
            channel=query.get("channel"), country=query.get("country"), device=query.get("device")
        )
        began = time.perf_counter()
        reader.kpis(names, query["grain"], start, end, where)  # type: ignore[arg-type]
        if query.get("compare") and start and end:
            _summary(reader, names, start, end, where)
        timings.append(time.perf_counter() - began)
    reader.close()
    return timings


def signed_in_client(base: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    answer = client.post("/api/v1/auth/login", json={"email": ANALYST, "password": password})
    answer.raise_for_status()
    return client


def api_latencies(base: str, password: str, queries: list[dict[str, str]], rounds: int) -> list[float]:
    """Seconds per request, one client, sequential."""
    timings = []
    client = signed_in_client(base, password)
    try:
        for query in itertools.islice(itertools.cycle(queries), rounds * len(queries)):
            began = time.perf_counter()
            client.get("/api/v1/kpis", params=query).raise_for_status()
            timings.append(time.perf_counter() - began)
    finally:
        client.close()
    return timings


def load_child(base: str, password: str, queries: list[dict[str, str]], clients: int, seconds: float,
               out: Any) -> None:  # fmt: skip
    """The load generator (its own process): ``clients`` threads in a closed loop for ``seconds``."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run(offset: int) -> None:
        client = signed_in_client(base, password)
        try:
            for query in itertools.islice(itertools.cycle(queries), offset, None):
                if time.perf_counter() >= deadline:
                    return
                began = time.perf_counter()
                status = client.get("/api/v1/kpis", params=query).status_code
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    statuses[status] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put({"latencies": latencies, "statuses": dict(statuses), "elapsed": time.perf_counter() - began})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def describe(name: str, timings: list[float]) -> str:
    p50, p99 = percentile(timings, 0.5) * 1000, percentile(timings, 0.99) * 1000
    return f"  {name:<26} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms   n={len(timings)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "shopsight-bench")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=20, help="Sequential rounds of the query mix.")
    args = parser.parse_args()

    from shopsight.config import load_settings
    from shopsight.platform import Platform
    from shopsight.security.policy import Role
    from shopsight.testing.auth import TEST_PASSWORD, create_user
    from shopsight.testing.crash import free_port, start_server

    home = prepare_lake(args.events, args.cache)
    build_warehouse(home)
    platform = Platform(load_settings(home=home))
    if (home / "BENCH_ANALYST").exists() is False:
        create_user(platform, ANALYST, Role.ANALYST)
        (home / "BENCH_ANALYST").write_text("ok")
    platform.close()
    queries = query_mix(last_day(home))

    direct = direct_latencies(home, queries, args.rounds)
    port = free_port()
    server = start_server(home, port, timeout=600)
    base = f"http://127.0.0.1:{port}"
    try:
        api_latencies(base, TEST_PASSWORD, queries, 2)  # warm the server's engine and caches
        single = api_latencies(base, TEST_PASSWORD, queries, args.rounds)
        results: multiprocessing.Queue[dict[str, Any]] = multiprocessing.get_context("spawn").Queue()
        child = multiprocessing.get_context("spawn").Process(
            target=load_child, args=(base, TEST_PASSWORD, queries, args.clients, args.seconds, results)
        )
        child.start()
        loaded = results.get()
        child.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"KPI API on a warehouse of {args.events:,} demo events ({len(queries)} queries in the mix)")
    print(describe("direct (reader, in-process)", direct))
    print(describe("API, 1 client", single))
    print(describe(f"API, {args.clients} clients", loaded["latencies"]))
    rate = len(loaded["latencies"]) / loaded["elapsed"]
    overhead = statistics.median(single) / statistics.median(direct)
    print(f"  throughput under load: {rate:,.1f} requests/s; statuses {loaded['statuses']}")
    print(f"  API overhead, 1 client, median / direct median: {overhead:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

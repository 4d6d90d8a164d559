"""ShopSight benchmarks, each printed as a ratio against a baseline run side by side on the same data.

1. Collector: HTTP ``/v1/batch`` with durable (fsync'd) acks, 8 client threads in this process against
   ``shopsight serve`` in another, vs a loop that parses the same payloads with orjson and appends them
   to a file with one fsync per batch (the same fsync policy as one ack). The per-write-key rate limit
   (a policy, 2,000 events/s by default) is lifted for this server so the figure is the collector's
   capacity; any answer other than 200 is counted and printed. ``python -m benchmarks.run_all collector``
   runs only this part.
2. Compaction: event log -> partitioned Parquet vs DuckDB ``COPY (read_json) TO parquet`` of the same
   records as NDJSON.
3. Import: ``shopsight import`` of the real online-retail CSV (541,909 lines) with its mapping vs DuckDB
   ``read_csv`` of the same file into a table.
4. Warehouse: the pipeline on ``BENCH_WAREHOUSE_EVENTS`` demo events (default 10M) vs a hand-written DuckDB
   SQL script, pandas and PySpark local mode (``benchmarks/warehouse.py``).
5. Recommendation serving: the real server at a fixed open-loop 500 requests/s for 20 s across the four
   ``/api/v1/recs`` routes (load generator in a second process) vs in-process calls of the same service
   (``benchmarks/recs_serving.py``).
6. Forecasting: ``BENCH_FORECAST_SERIES`` (default 30,000) retail-shaped series through our forecast path vs
   statsforecast called directly with the same models and n_jobs (``benchmarks/forecast_scale.py``).
7. ALS training: ``ALSRecommender.fit`` on the real online-retail purchases vs ``implicit``'s ALS called
   directly on the same matrix with the same parameters, plus PySpark ALS for information
   (``benchmarks/recs_als.py``; part ``recs-als``).
Run: ``make bench`` (2-core machine; numbers in the closing notes of the issues).
"""

from __future__ import annotations

import base64
import collections
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import httpx
import orjson

from shopsight.config import load_settings
from shopsight.demo.generator import DemoConfig, generate
from shopsight.lake.compaction import compact
from shopsight.platform import Platform
from shopsight.testing.crash import create_write_key, free_port, start_server

BATCH = 100
UNLIMITED = {"SHOPSIGHT_COLLECTOR__RATE_PER_SECOND": "1e9", "SHOPSIGHT_COLLECTOR__RATE_BURST": "1000000000"}


def demo_batches(events: int) -> list[bytes]:
    items = [d.data for d in generate(DemoConfig(seed=11, events=events)) if d.kind == "event"]
    return [orjson.dumps({"batch": items[i : i + BATCH]}) for i in range(0, len(items), BATCH)]


def baseline_append(batches: list[bytes], folder: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    with open(folder / "baseline.ndjson", "ab") as fh:
        for body in batches:
            events = orjson.loads(body)["batch"]
            fh.write(b"".join(orjson.dumps(e) + b"\n" for e in events))
            fh.flush()
            os.fsync(fh.fileno())
            count += len(events)
    return time.perf_counter() - started, count


def collector_http(
    batches: list[bytes], home: Path, threads: int = 8
) -> tuple[float, int, list[float], collections.Counter[int]]:
    write_key = create_write_key(home)
    port = free_port()
    server = start_server(home, port, env=UNLIMITED)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
            "Content-Type": "application/json"}  # fmt: skip
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    accepted = [0]
    lock = threading.Lock()
    work = iter(batches)

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            while True:
                with lock:
                    body = next(work, None)
                if body is None:
                    return
                t0 = time.perf_counter()
                response = http.post(f"http://127.0.0.1:{port}/v1/batch", content=body, headers=auth)
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    accepted[0] += response.json().get("accepted", 0)
                    statuses[response.status_code] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    server.terminate()
    server.wait()
    return elapsed, accepted[0], latencies, statuses


def bench_collector(events: int) -> None:
    batches = demo_batches(events)
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        statuses: collections.Counter[int] = collections.Counter()
        for _ in range(int(os.environ.get("BENCH_RUNS", "2"))):  # alternate order, median of each side
            base_s, base_n = baseline_append(batches, Path(tmp))
            ours_s, ours_n, latencies, answers = collector_http(batches, Path(tmp) / f"home{len(runs)}")
            runs.append((base_n / base_s, ours_n / ours_s, latencies))
            statuses.update(answers)
    base_rate = statistics.median(r[0] for r in runs)
    ours_rate = statistics.median(r[1] for r in runs)
    lat = sorted(itertools.chain.from_iterable(r[2] for r in runs))
    p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
    print(f"collector: {ours_rate:,.0f} events/s (HTTP, durable acks, batches of {BATCH}) vs baseline "
          f"{base_rate:,.0f} events/s -> ratio {ours_rate / base_rate:.2f} (goal >= 0.50); "
          f"batch latency p50 {p50:.1f} ms p99 {p99:.1f} ms")  # fmt: skip
    if set(statuses) != {200}:
        print(f"collector: answers other than 200 during the runs: {dict(statuses)}")


def bench_compaction(events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform(load_settings(home=Path(tmp) / "home", log_group_commit_ms=0.0))
        guard = platform.privacy
        from shopsight.events.ingest import prepare_event

        now = __import__("datetime").datetime.now(__import__("datetime").UTC)
        records = [
            prepare_event(d.data, source="bench", received_at=now, guard=guard).to_bytes()
            for d in generate(DemoConfig(seed=5, events=events))
            if d.kind == "event"
        ]
        for i in range(0, len(records), 5000):
            platform.event_log.append(records[i : i + 5000])
        ndjson = Path(tmp) / "records.ndjson"
        ndjson.write_bytes(b"\n".join(records) + b"\n")
        t0 = time.perf_counter()
        reader = f"read_json('{ndjson}', format='newline_delimited', sample_size=-1)"
        target = Path(tmp) / "duck.parquet"
        duckdb.sql(f"COPY (SELECT * FROM {reader}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        duck_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
        ours_s = time.perf_counter() - t0
        platform.close()
    n = len(records)
    print(f"compaction: {n / ours_s:,.0f} rows/s vs DuckDB NDJSON->Parquet {n / duck_s:,.0f} rows/s "
          f"-> ratio {duck_s / ours_s:.2f} (ours: partitioned, deduplicated)")  # fmt: skip


ONLINE_RETAIL = (
    Path(__file__).resolve().parents[2] / "shared/datasets/online-retail/online_retail_2010-12_2011-12.csv.gz"
)


def bench_import(path: Path = ONLINE_RETAIL) -> None:
    from shopsight.importer import Importer, load_mapping

    t0 = time.perf_counter()
    rows = duckdb.sql(f"SELECT count(*) FROM (SELECT * FROM read_csv('{path}'))").fetchone()
    duck_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform(load_settings(home=Path(tmp) / "home"))
        t0 = time.perf_counter()
        report = Importer(platform, load_mapping("online-retail")).import_file(path)
        ours_s = time.perf_counter() - t0
        platform.close()
    n = report.rows
    assert rows is not None and rows[0] == n, (rows, n)
    print(f"import: {n / ours_s:,.0f} rows/s ({n:,} online-retail lines -> {sum(report.records.values()):,} "
          f"validated, encrypted, durable records) vs DuckDB read_csv {n / duck_s:,.0f} rows/s "
          f"-> ratio {duck_s / ours_s:.3f}")  # fmt: skip


def bench_warehouse(events: int) -> None:
    """The warehouse build vs hand-written SQL, pandas and PySpark (benchmarks/warehouse.py).

    Its lake is cached under /tmp/shopsight-bench; building the 10M-event one takes about an hour here.
    """
    command = [sys.executable, "-u", "-m", "benchmarks.warehouse", "--events", str(events), "--spark"]
    subprocess.run(command, check=True)


def main() -> None:
    print(f"machine: {os.cpu_count()} cores")
    parts = set(sys.argv[1:]) or {
        "collector", "compaction", "import", "warehouse", "recs", "forecast", "recs-als"
    }  # fmt: skip
    if "collector" in parts:
        bench_collector(int(os.environ.get("BENCH_EVENTS", "20000")))
    if "compaction" in parts:
        bench_compaction(int(os.environ.get("BENCH_EVENTS", "20000")))
    if "import" in parts:
        bench_import()
    if "warehouse" in parts:
        bench_warehouse(int(os.environ.get("BENCH_WAREHOUSE_EVENTS", "10000000")))
    if "recs" in parts:
        subprocess.run([sys.executable, "-u", "-m", "benchmarks.recs_serving"], check=True)
    if "forecast" in parts:  # BENCH_FORECAST_SERIES, default 30,000
        subprocess.run([sys.executable, "-u", "-m", "benchmarks.forecast_scale"], check=True)
    if "recs-als" in parts:
        subprocess.run([sys.executable, "-u", "-m", "benchmarks.recs_als"], check=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the benchmark process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()

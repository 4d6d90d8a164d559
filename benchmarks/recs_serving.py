"""Recommendation serving latency: the real server under a fixed, open-loop 500 requests/s.

1. Trains ``BENCH_RECS_MODEL`` (default ``als``) on the demo store (120,000 events) into a fresh home and
   activates it; creates an API key scoped ``recommendations:read`` and exchanges it for a bearer token.
2. Starts ``shopsight serve`` (uvicorn) in a subprocess and, in a second process, a load generator that
   sends requests on a fixed schedule (request i at t0 + i / rate, whatever happened before: open loop, so
   a slow answer cannot hold back the next requests and hide latency, i.e. no coordinated omission). A
   request's latency runs from its scheduled time to the last byte of its answer. The four routes take
   turns with users and items drawn from the training data (fixed seed). Raw asyncio HTTP/1.1 on kept-alive
   connections, so the generator stays light next to the server.
3. Calls the same requests on the in-process ``RecommenderService`` (no HTTP) for the ratio.

Run: ``python -m benchmarks.recs_serving [--rate 500] [--seconds 20]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

from shopsight.config import load_settings
from shopsight.ml.recommend.datasets import demo_store
from shopsight.ml.recommend.registry import ModelRegistry
from shopsight.ml.recommend.serving import RECOMMENDER, RecommenderService, load_service, models_dir
from shopsight.ml.recommend.training import TrainingData, train
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.api_keys import ApiKeyStore
from shopsight.security.identity.models import UserCreate
from shopsight.security.identity.service import IdentityService
from shopsight.security.policy import Role
from shopsight.testing.crash import free_port, start_server

Request = tuple[str, str, bytes]  # method, path, JSON body
CONNECTIONS = 64
TARGETS = 2_000


def requests_for(data: TrainingData, count: int, seed: int = 7) -> list[Request]:
    """``count`` requests cycling over the four routes, users and items drawn from the data."""
    rng = np.random.default_rng(seed)
    users, items = np.unique(data.interactions.users), np.unique(data.interactions.items)
    out: list[Request] = []
    for n in range(count):
        user, chosen = str(rng.choice(users)), [str(i) for i in rng.choice(items, size=rng.integers(1, 6))]
        route = n % 4
        if route == 0:
            out.append(("GET", f"/api/v1/recs/users/{user}?k=10", b""))
        elif route == 1:
            out.append(("GET", f"/api/v1/recs/items/{chosen[0]}/similar?k=10", b""))
        else:
            kind = "session" if route == 2 else "cart"
            out.append(("POST", f"/api/v1/recs/{kind}", orjson.dumps({"item_ids": chosen, "k": 10})))
    return out


def direct_call(service: RecommenderService, request: Request) -> Callable[[], object]:
    """The in-process call a request maps to."""
    _, path, body = request
    if path.startswith("/api/v1/recs/users/"):
        user = path.removeprefix("/api/v1/recs/users/").split("?")[0]
        return lambda: service.for_user(user, k=10)
    if path.endswith("/similar?k=10"):
        item = path.removeprefix("/api/v1/recs/items/").removesuffix("/similar?k=10")
        return lambda: service.similar(item, k=10)
    items = orjson.loads(body)["item_ids"]
    if path.endswith("/session"):
        return lambda: service.for_session(items, k=10)
    return lambda: service.for_cart(items, k=10)


def percentiles(latencies_ms: list[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max of a list of milliseconds."""
    ordered = sorted(latencies_ms)

    def at(share: float) -> float:
        return ordered[min(int(len(ordered) * share), len(ordered) - 1)]

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": ordered[-1]}


# ---- the load generator (its own process) -------------------------------------------------------------


async def _send(
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]], raw: bytes
) -> tuple[int, float]:
    reader, writer = await pool.get()
    try:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        return status, time.perf_counter()
    finally:
        pool.put_nowait((reader, writer))


def _raw(request: Request, port: int, token: str) -> bytes:
    method, path, body = request
    headers = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Authorization: Bearer {token}",
               f"Content-Length: {len(body)}", "Content-Type: application/json"]  # fmt: skip
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


async def generate_load(
    port: int, token: str, requests: list[Request], rate: float, seconds: float
) -> dict[str, Any]:
    """Send ``rate`` requests/s for ``seconds`` on a fixed schedule; latencies from the scheduled times."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    raws = [_raw(r, port, token) for r in requests]
    for raw in raws[:50]:  # warm-up (first answers load the model, fill caches)
        await _send(pool, raw)
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    tasks = []
    start = time.perf_counter() + 0.05

    async def one(n: int, due: float) -> None:
        status, done = await _send(pool, raws[n % len(raws)])
        latencies.append((done - due) * 1000)
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return {"latencies_ms": latencies, "statuses": statuses, "sent": total, "elapsed": elapsed}


def load_main() -> None:
    """Entry point of the load generator process: reads its job as JSON on stdin, prints results."""
    job = orjson.loads(sys.stdin.buffer.read())
    requests = [(m, p, b.encode()) for m, p, b in job["requests"]]
    result = asyncio.run(generate_load(job["port"], job["token"], requests, job["rate"], job["seconds"]))
    sys.stdout.buffer.write(orjson.dumps(result))


# ---- the benchmark -----------------------------------------------------------------------------------


def prepare(home: Path, model: str) -> tuple[TrainingData, str]:
    """Train and activate ``model`` on the demo store; returns the data and an API key."""
    platform = Platform(load_settings(home=home))
    try:
        demo = demo_store()
        data = TrainingData(demo.split.train, demo.catalog)
        started = time.perf_counter()
        version = train(model, data, registry=ModelRegistry(platform.metadata, models_dir(platform.settings)))
        took, ndcg = time.perf_counter() - started, version.metrics.get("ndcg@10", 0.0)
        print(f"recs serving: trained {model} v{version.version} on {len(data.interactions):,} demo "
              f"interactions in {took:.1f} s (hold-out ndcg@10 {ndcg:.4f})")  # fmt: skip
        identity = IdentityService.for_platform(platform)
        owner = identity.create_user(UserCreate(email="shop@example.com", role=Role.MARKETER),
                                     password="correct horse battery staple 9")  # fmt: skip
        keys = ApiKeyStore(
            metadata=platform.metadata, keyring=platform.privacy.keyring, audit=open_audit(platform)
        )
        secret, _ = keys.create(owner=owner.id, scopes=["recommendations:read"], name="bench")
        return data, secret
    finally:
        platform.close()


def in_process(home: Path, requests: list[Request], rounds: int = 3) -> list[float]:
    """Per-call milliseconds of the same requests on the service, without HTTP."""
    platform = Platform(load_settings(home=home))
    try:
        registry = ModelRegistry(platform.metadata, models_dir(platform.settings))
        active = registry.active(RECOMMENDER)
        assert active is not None
        service = load_service(registry, active)
    finally:
        platform.close()
    calls = [direct_call(service, r) for r in requests]
    timings = []
    for _ in range(rounds):
        for call in calls:
            t0 = time.perf_counter()
            call()
            timings.append((time.perf_counter() - t0) * 1000)
    return timings


def over_http(
    home: Path, secret: str, requests: list[Request], rate: float, seconds: float
) -> dict[str, Any]:
    """Start the server, get a token, run the load generator process against it."""
    port = free_port()
    server = start_server(home, port, timeout=600.0)  # a busy 2-core machine imports slowly
    try:
        token = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", json={"api_key": secret}).json()
        job = {"port": port, "token": token["access_token"], "rate": rate, "seconds": seconds,
               "requests": [(m, p, b.decode()) for m, p, b in requests]}  # fmt: skip
        generator = subprocess.run(
            [sys.executable, "-m", "benchmarks.recs_serving", "--load"], input=orjson.dumps(job),
            capture_output=True, check=False,
        )  # fmt: skip
        if generator.returncode:
            raise RuntimeError(f"load generator failed: {generator.stderr.decode()[-2000:]}")
        return dict(orjson.loads(generator.stdout))
    finally:
        server.terminate()
        server.wait()


def bench_recs_serving(rate: float = 500.0, seconds: float = 20.0) -> None:
    """Train, serve, load at ``rate`` for ``seconds``, print percentiles and the ratio to in-process calls."""
    model = os.environ.get("BENCH_RECS_MODEL", "als")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        data, secret = prepare(home, model)
        requests = requests_for(data, TARGETS)
        direct = percentiles(in_process(home, requests))
        result = over_http(home, secret, requests, rate, seconds)
    http = percentiles(result["latencies_ms"])
    achieved = len(result["latencies_ms"]) / result["elapsed"]
    print(f"recs serving: {result['sent']:,} requests at {rate:.0f}/s open loop over {seconds:.0f} s "
          f"(achieved {achieved:,.0f}/s), 4 routes, answers {result['statuses']}; latency "
          + " ".join(f"{k} {v:.2f} ms" for k, v in http.items()) + " (goal p99 < 10 ms)")  # fmt: skip
    ratio = f"p50 {http['p50'] / direct['p50']:.1f}x, p99 {http['p99'] / direct['p99']:.1f}x"
    inside = " ".join(f"{k} {v:.3f} ms" for k, v in direct.items())
    print(f"recs serving: in-process RecommenderService {inside} -> HTTP / in-process: {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", action="store_true", help="Run as the load generator (internal).")
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    arguments = parser.parse_args()
    if arguments.load:
        load_main()
    else:
        bench_recs_serving(arguments.rate, arguments.seconds)


if __name__ == "__main__":
    main()

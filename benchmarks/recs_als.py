"""ALS training time: ShopSight's ALS recommender vs calling ``implicit`` directly on the same matrix.

On the real UCI Online Retail purchases (customer x stock code, training period to 2011-09-30):

1. ShopSight: ``ALSRecommender(...).fit(train, catalog)``, the whole training path: encoding the
   interactions (vocabularies, user x item matrix, histories), cold-start tables, the confidence matrix,
   then ``implicit``'s ALS.
2. Baseline: ``implicit.als.AlternatingLeastSquares(...).fit(matrix)`` on the same confidence matrix, built
   beforehand (not timed), with the same factors, iterations, regularization, alpha, seed and threads.
   Both run with BLAS on one thread, as ``implicit`` asks (it parallelises itself).

The two alternate for ``--runs`` rounds; medians and their ratio are printed (goal <= 1.2x). For
information, ALS trained on PySpark local mode (``SparkALSRecommender``) with the same parameters is timed
too (its session start is printed apart). ``--customers N`` runs on N customers drawn with a fixed seed.

Run: ``python -m benchmarks.recs_als [--runs 5] [--customers N] [--no-spark]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from shopsight.ml.recommend.coldstart import ColdStart
from shopsight.ml.recommend.datasets import EvaluationData, datasets_dir, online_retail
from shopsight.ml.recommend.encoding import encode
from shopsight.ml.recommend.models.factorization import ALSRecommender, confidence

PARAMS: dict[str, Any] = {"factors": 64, "iterations": 15, "regularization": 0.1, "alpha": 10.0, "seed": 42}
THREADS = 2  # what ALSRecommender gives implicit


def retail(customers: int | None) -> EvaluationData:
    """The online-retail training period, all customers or ``customers`` of them (fixed seed)."""
    data = online_retail(datasets_dir())
    if customers is None:
        return data
    train = data.split.train
    chosen = np.random.default_rng(5).choice(np.unique(train.users), customers, replace=False)
    split = type(data.split)(train.select(np.isin(train.users, chosen)), data.split.test)
    return EvaluationData(f"{data.name} ({customers} customers)", split, data.task, data.catalog)


def timed(run: Callable[[], object]) -> float:
    """Seconds one call of ``run`` takes."""
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def timed_cpu(run: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one call of ``run``.

    On a machine other jobs keep busy, CPU time moves far less than wall time: both are printed.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def direct_implicit(matrix: Any) -> None:
    """The baseline: implicit's ALS, called directly on a ready matrix."""
    from implicit.als import AlternatingLeastSquares

    with threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(
            factors=PARAMS["factors"], regularization=PARAMS["regularization"], alpha=PARAMS["alpha"],
            iterations=PARAMS["iterations"], random_state=PARAMS["seed"], num_threads=THREADS,
        )  # fmt: skip
        model.fit(matrix, show_progress=False)


def bench_implicit(data: EvaluationData, runs: int) -> float:
    """Alternate ours and the baseline ``runs`` times; print medians, the ratio and our preparation time."""
    train, catalog = data.split.train, data.catalog
    encoded = encode(train, catalog)
    matrix = confidence(encoded)
    ours: list[tuple[float, float]] = []
    baseline: list[tuple[float, float]] = []
    prep = []
    for n in range(runs):  # alternate which goes first, so neither always meets a warmer machine
        pair = [lambda: ours.append(timed_cpu(lambda: ALSRecommender(**PARAMS).fit(train, catalog))),
                lambda: baseline.append(timed_cpu(lambda: direct_implicit(matrix)))]  # fmt: skip
        for step in pair if n % 2 == 0 else pair[::-1]:
            step()
        prep.append(timed(lambda: ColdStart.build(encode(train, catalog), train, catalog)))
    ours_s, base_s = (statistics.median(t[0] for t in side) for side in (ours, baseline))
    ours_cpu, base_cpu = (statistics.median(t[1] for t in side) for side in (ours, baseline))
    print(f"recs ALS: {data.name}, {matrix.shape[0]:,} users x {matrix.shape[1]:,} items, {matrix.nnz:,} "
          f"entries; factors {PARAMS['factors']}, {PARAMS['iterations']} iterations, {THREADS} threads, "
          f"{runs} alternating runs")  # fmt: skip
    print(
        f"recs ALS: ShopSight ALSRecommender.fit median {ours_s:.3f} s (runs "
        + ", ".join(f"{t[0]:.2f}" for t in ours)
        + f") vs implicit directly {base_s:.3f} s (runs "
        + ", ".join(f"{t[0]:.2f}" for t in baseline)
        + f") -> ratio {ours_s / base_s:.2f}x (goal <= 1.2x)"
    )
    prep_s = statistics.median(prep)
    print(f"recs ALS: CPU time medians {ours_cpu:.3f} s vs {base_cpu:.3f} s -> ratio "
          f"{ours_cpu / base_cpu:.2f}x; of ours, encoding + cold start {prep_s:.3f} s wall")  # fmt: skip
    return ours_s


def bench_spark(data: EvaluationData, implicit_s: float) -> None:
    """ALS trained on PySpark local mode with the same parameters (information, no goal)."""
    from shopsight.engines.spark.als import SparkALSTrainer
    from shopsight.engines.spark.session import spark_session
    from shopsight.ml.recommend.models.spark_als import SparkALSRecommender

    started = time.perf_counter()
    session = spark_session("local[2]")
    session_s = time.perf_counter() - started
    trainer = SparkALSTrainer(lambda: session)
    try:
        times = [
            timed(lambda: SparkALSRecommender(**PARAMS, trainer=trainer).fit(data.split.train, data.catalog))
            for _ in range(2)  # the first fit also warms the JVM up
        ]
    finally:
        session.stop()
    print(f"recs ALS: SparkALSRecommender.fit on PySpark local[2]: first {times[0]:.1f} s, second "
          f"{times[1]:.1f} s ({times[1] / implicit_s:.1f}x ShopSight on implicit); session start "
          f"{session_s:.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--customers", type=int, default=None, help="Sample this many customers.")
    parser.add_argument("--no-spark", action="store_true", help="Skip the PySpark timing.")
    arguments = parser.parse_args()
    data = retail(arguments.customers)
    implicit_s = bench_implicit(data, arguments.runs)
    if not arguments.no_spark:
        bench_spark(data, implicit_s)


if __name__ == "__main__":
    main()

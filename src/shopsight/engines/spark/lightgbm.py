"""LightGBM trained on Spark, for mlforecast's distributed backend, without SynapseML.

mlforecast's own Spark LightGBM is SynapseML's, whose JVM packages come from Maven at run time, which
not every install can reach. This estimator trains with LightGBM's own data-parallel mode instead, the
one ``lightgbm.dask`` uses: the training frame is split into ``partitions`` Spark tasks run as one
barrier stage (all start together, or none), each task opens a port, the tasks exchange their addresses
(``allGather``), and every task runs ``lightgbm.train`` on its rows with the others as its network peers,
so the histograms are summed across tasks and all of them grow the same trees. The first task returns
the model as text, and mlforecast forecasts with it as a local ``lightgbm.Booster``.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from shopsight.ml.forecast.models import LIGHTGBM_PARAMS

NETWORK_TIMEOUT_MINUTES = 5


def train_params(regressor_params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``lightgbm.train`` parameters and rounds equivalent to ``LGBMRegressor(**regressor_params)``: the
    scikit-learn names are ``lightgbm.train`` aliases too, except ``n_estimators``, the rounds."""
    params = {key: value for key, value in regressor_params.items() if key != "n_estimators"}
    params |= {"objective": "regression", "verbosity": -1, "num_threads": 1}
    return params, int(regressor_params.get("n_estimators", 100))


@dataclass(frozen=True)
class SparkLightGBMForecast:
    """A Spark model for ``DistributedMLForecast``: ``_pre_fit``, ``fit`` on the assembled features, then
    ``extract_local_model`` (the interface of mlforecast's ``SparkXGBForecast``)."""

    partitions: int = 2
    label_col: str = "y"

    def _pre_fit(self, target_col: str, weight_col: str | None = None) -> SparkLightGBMForecast:
        if weight_col is not None:
            raise ValueError("sample weights are not supported by the Spark LightGBM model")
        return replace(self, label_col=target_col)

    def fit(self, train_data: Any) -> str:
        """The model trained on every row of ``train_data`` (``label_col`` and a ``features`` vector)."""
        params, rounds = train_params(LIGHTGBM_PARAMS)  # the local LGBMRegressor's settings
        # A barrier stage needs a slot for every task at once: never more tasks than the cluster has cores.
        slots = train_data.sparkSession.sparkContext.defaultParallelism
        tasks = train_data.repartition(max(1, min(self.partitions, slots))).rdd.barrier()
        trained = tasks.mapPartitions(partial(_train_task, params, rounds, self.label_col)).collect()
        (model,) = trained  # only the first task returns it
        return str(model)

    def extract_local_model(self, trained: str) -> Any:
        """The trained model as a ``lightgbm.Booster`` for mlforecast's per-partition forecasts."""
        import lightgbm as lgb

        return lgb.Booster(model_str=trained)


def _train_task(params: dict[str, Any], rounds: int, label_col: str, rows: Iterator[Any]) -> Iterator[str]:
    """One barrier task: join the other tasks' LightGBM network and train on this task's rows."""
    import lightgbm as lgb
    from pyspark import BarrierTaskContext

    # Network set-up logs ("Connected to rank ...") ignore verbosity: through a logger at WARNING (the
    # listener thread still prints one "Listening..." line per task to the worker's stdout).
    lgb.register_logger(logging.getLogger(__name__))
    context = BarrierTaskContext.get()
    table = list(rows)
    if not table:  # LightGBM cannot build a dataset of no rows: say why the stage failed
        raise ValueError("a LightGBM training task got no rows: fewer training rows than Spark tasks")
    features = np.array([row["features"].toArray() for row in table], dtype=float)
    labels = np.array([row[label_col] for row in table], dtype=float)
    host = socket.gethostbyname(context.getTaskInfos()[context.partitionId()].address.rsplit(":", 1)[0])
    port = _free_port()
    machines = context.allGather(f"{host}:{port}")
    network = {
        "tree_learner": "data", "pre_partition": True, "num_machines": len(machines),
        "machines": ",".join(machines), "local_listen_port": port, "time_out": NETWORK_TIMEOUT_MINUTES,
    }  # fmt: skip
    booster = lgb.train({**params, **network}, lgb.Dataset(features, labels), num_boost_round=rounds)
    if context.partitionId() == 0:
        yield booster.model_to_string()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])

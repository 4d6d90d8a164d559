"""The Spark session every ShopSight Spark adapter runs on (local mode, or a cluster by master URL)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any


def spark_session(master: str = "local[2]", scratch: Path | None = None) -> Any:
    """A session on ``master`` (``local[N]`` or ``spark://HOST:PORT``), its files under ``scratch``.

    ``getOrCreate``: a session already running in this process is reused (a JVM starts once per process).
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python tasks (pandas UDFs, e.g. statsforecast through fugue) must run on this interpreter, not on
    # the system ``python3`` that lacks the project's packages; PySpark reads only this variable.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    scratch_dir = scratch or Path(tempfile.mkdtemp(prefix="shopsight-spark-"))
    session = (
        SparkSession.builder.master(master)
        .appName("shopsight")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.warehouse.dir", str(scratch_dir / "spark-warehouse"))
        .config("spark.local.dir", str(scratch_dir / "spark-local"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # List the lake's many small files on the driver instead of in a Spark job per read.
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch_dir}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session

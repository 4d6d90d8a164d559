"""SIGKILL a process appending to the file log: every acknowledged record is there, intact, once."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shopsight.engines.filelog.client import FileEventLog

pytestmark = pytest.mark.integration

WRITER = """
import sys, threading
from shopsight.engines.filelog.client import FileEventLog
log = FileEventLog(sys.argv[1], group_commit_ms=1.0)
lock = threading.Lock()
def run(worker):
    n = 0
    while True:
        payload = f"{sys.argv[2]}-{worker}-{n}".encode() * 20
        offset = log.append([payload])[0]
        with lock:
            print(f"{worker} {n} {offset}", flush=True)
        n += 1
for w in range(4):
    threading.Thread(target=run, args=(w,), daemon=True).start()
threading.Event().wait()
"""


def test_acknowledged_appends_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(7)
    for round_ in range(5):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), f"r{round_}"], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        first_ack = process.stdout.readline()  # the writer is up and appending
        time.sleep(0.2 + rng.random() * 0.8)
        process.send_signal(signal.SIGKILL)
        output, _ = process.communicate()
        output = first_ack + output
        acked = [line.split() for line in output.splitlines() if line.count(" ") == 2]
        assert acked, "no append was acknowledged before the kill"
        log = FileEventLog(tmp_path)
        stored = {r.offset: r.payload for r in log.read(0, 10_000_000)}
        log.close()
        assert len(stored) == len(set(stored))
        for worker, n, offset in acked:
            assert stored[int(offset)] == f"r{round_}-{worker}-{n}".encode() * 20

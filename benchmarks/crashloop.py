"""kill -9 soak: N rounds of load -> SIGKILL -> restart -> resend -> compact, all in one home.

Run: ``.venv/bin/python -m benchmarks.crashloop --rounds 100``. Exits 1 on the first round in which an
acknowledged event is missing from the lake or present more than once.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from shopsight.testing.crash import crash_round


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=100, help="How many kill -9 rounds.")
    parser.add_argument("--seed", type=int, default=1, help="Seed for kill timing and event ids.")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    acknowledged = 0
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        for round_ in range(args.rounds):
            result = crash_round(home, seed=args.seed * 10_000 + round_, run_seconds=0.2 + rng.random() * 1.5)
            acknowledged += result.acknowledged
            print(f"round {round_}: {result.acknowledged} acked, exactly once: {result.ok}", flush=True)
            if not result.ok:
                print(f"round {round_}: missing={result.missing[:5]} duplicated={result.duplicated[:5]}")
                return 1
    print(f"{args.rounds} rounds, {acknowledged} acknowledged events, all present exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())

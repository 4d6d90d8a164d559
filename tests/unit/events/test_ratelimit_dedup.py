from shopsight.events.dedup import RecentIds
from shopsight.events.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_bursts_then_refills_at_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10, burst=20, clock=clock)
    assert limiter.try_acquire("web", 20) == 0
    wait = limiter.try_acquire("web", 5)
    assert 0.49 < wait < 0.51
    clock.now = 0.5
    assert limiter.try_acquire("web", 5) == 0
    assert limiter.try_acquire("app", 20) == 0  # keys are independent


def test_recent_ids_first_claim_wins_and_release_forgets() -> None:
    ids = RecentIds(capacity=3)
    assert ids.claim(["a", "b", "a"]) == [True, True, False]
    ids.release(["b"])
    assert ids.claim(["b"]) == [True]
    ids.claim(["c", "d"])
    assert len(ids) == 3
    assert ids.claim(["a"]) == [True]  # oldest forgotten first

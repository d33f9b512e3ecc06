"""Server-side attempt limits shared by every session (rcm_map.store.throttle, issue 12)."""

from __future__ import annotations

import threading

from rcm_map.store.throttle import Throttle, login_keys


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_in_a_sliding_window() -> None:
    clock = Clock()
    gate = Throttle(limit=3, window_s=60, clock=clock)
    assert all(gate.allow(["user:ana"]) for _ in range(3))
    assert not gate.allow(["user:ana"])
    assert gate.retry_after(["user:ana"]) == 60
    assert gate.allow(["user:luis"])  # other keys are not affected
    clock.now += 59.9
    assert not gate.allow(["user:ana"])
    clock.now += 0.1
    assert gate.allow(["user:ana"])


def test_any_blocked_key_blocks_the_attempt() -> None:
    """A client that guesses many user names is stopped by its address key."""
    clock = Clock()
    gate = Throttle(limit=5, window_s=900, clock=clock)
    for i in range(5):
        gate.record(login_keys(f"user{i}", "203.0.113.7"))
    assert gate.retry_after(login_keys("someone-new", "203.0.113.7")) > 0
    assert gate.retry_after(login_keys("someone-new", "198.51.100.1")) == 0


def test_forget_after_success_and_keys_kept_hashed() -> None:
    gate = Throttle(limit=1, window_s=60)
    gate.record(["user:ana"])
    assert gate.retry_after(["user:ana"]) > 0
    assert "ana" not in repr(gate._events)
    gate.forget(["user:ana"])
    assert gate.retry_after(["user:ana"]) == 0


def test_parallel_sessions_share_the_count() -> None:
    """100 threads (sessions) try at once: exactly `limit` get through."""
    gate = Throttle(limit=5, window_s=900)
    allowed: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        ok = gate.allow(login_keys("ana", None))
        with lock:
            allowed.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 5


def test_user_names_fold_case_and_spaces() -> None:
    assert login_keys(" Ana ", "1.2.3.4") == login_keys("ana", "1.2.3.4")

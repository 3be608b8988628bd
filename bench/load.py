"""Load generators: a closed loop of N clients, and an open loop at a fixed rate.

Both are bounded in time and in count, and stop by themselves. Each client is a
thread with state of its own (an HTTP connection, a database connection) made by
`make_state`; `op(state, item)` does one operation and raises on failure.

The open loop measures each operation from the moment it was *due*, not the moment
a thread got to it, so a system that falls behind shows its queueing in the
latencies instead of hiding it (no coordinated omission).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.stats import latency_ms


@dataclass
class Outcome:
    ok: int = 0
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of the successful operations, in seconds
    results: list[tuple[Any, float, Any]] = field(default_factory=list)  # (item, done at, op's answer)

    def summary(self, clients: int | None = None, rate: float | None = None) -> dict:
        return {
            **({"clients": clients} if clients is not None else {}),
            **({"offered_per_s": rate} if rate is not None else {}),
            "ok": self.ok,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors.most_common(5)),
            "seconds": round(self.seconds, 3),
            "per_s": round(self.ok / self.seconds, 1) if self.seconds else 0.0,
            **latency_ms(self.latencies),
        }


def _error_kind(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}"


def _measured(outcome: Outcome, lock: threading.Lock, op: Callable[[Any, Any], Any], state, item,
              since: float, keep_results: bool) -> None:
    """Runs one operation and records it: its error, or its latency from `since` (and its answer)."""
    try:
        answer = op(state, item)
    except Exception as exc:  # noqa: BLE001 - counted, the run goes on
        with lock:
            outcome.errors[_error_kind(exc)] += 1
        return
    done = time.perf_counter()
    with lock:
        outcome.ok += 1
        outcome.latencies.append(done - since)
        if keep_results:
            outcome.results.append((item, done, answer))


def closed_loop(items: Iterable, op: Callable[[Any, Any], Any], *, clients: int, seconds: float, max_ops: int,
                make_state: Callable[[], Any] = lambda: None, close_state: Callable[[Any], None] = lambda s: None,
                keep_results: bool = False) -> Outcome:
    """`clients` threads each doing one operation after another until `seconds` pass or `max_ops` are done."""
    source: Iterator = iter(items)
    lock = threading.Lock()
    outcome = Outcome()
    taken = itertools.count()
    states = [make_state() for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + seconds

    def client(state) -> None:
        while True:
            with lock:
                if time.perf_counter() >= deadline or next(taken) >= max_ops:
                    return
                try:
                    item = next(source)
                except StopIteration:
                    return
            _measured(outcome, lock, op, state, item, time.perf_counter(), keep_results)

    threads = [threading.Thread(target=client, args=(s,), daemon=True) for s in states]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcome.seconds = time.perf_counter() - started  # the clients stop as their last operation ends
    for s in states:
        close_state(s)
    return outcome


def open_loop(items: Iterable, op: Callable[[Any, Any], Any], *, rate: float, seconds: float,
              workers: int = 64, make_state: Callable[[], Any] = lambda: None,
              close_state: Callable[[Any], None] = lambda s: None, keep_results: bool = False) -> Outcome:
    """One operation due every 1/rate seconds for `seconds`, run by up to `workers` threads at once."""
    source: Iterator = iter(items)
    due: queue.Queue = queue.Queue()
    lock = threading.Lock()
    outcome = Outcome()
    states = [make_state() for _ in range(workers)]
    total = int(rate * seconds)

    def worker(state) -> None:
        while True:
            job = due.get()
            if job is None:
                return
            item, when = job
            _measured(outcome, lock, op, state, item, when, keep_results)  # from when it was due

    threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in states]
    for t in threads:
        t.start()
    started = time.perf_counter()
    for i in range(total):
        when = started + i / rate
        pause = when - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        try:
            item = next(source)
        except StopIteration:
            break
        due.put((item, when))
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    outcome.seconds = time.perf_counter() - started
    for s in states:
        close_state(s)
    return outcome

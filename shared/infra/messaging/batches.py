"""The events waiting in a service's queue, applied a batch at a time; no broker or nameko here.

A service spends most of a projection on what surrounds it (a worker, a transaction, the
inbox row), so the events that have arrived together are applied in one read-model
transaction. Nothing waits for a batch to fill: under a light load a batch is the one event
that came, and it takes exactly the one-by-one path. A batch that fails is no event's
fault in particular, so it costs none of them an attempt: each is then applied alone, with
its own retries and parking, and only the poison one is parked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from queue import Empty
from typing import TypeVar

from shared.infra.outages import is_outage

Item = TypeVar("Item")


class Outcome(Enum):
    APPLIED = "applied"  # acknowledge every message of the batch
    OUTAGE = "outage"  # every message back to the queue, no attempt used
    ONE_BY_ONE = "one by one"  # each message through the one-by-one path


def take(waiting, size: int) -> list:
    """Waits for the first item of `waiting` (a queue), then takes what else has arrived, up to `size`."""
    batch = [waiting.get()]
    while len(batch) < size:
        try:
            batch.append(waiting.get_nowait())
        except Empty:
            break
    return batch


def outcome(error: BaseException | None) -> Outcome:
    """What a batch's error means for its messages."""
    if error is None:
        return Outcome.APPLIED
    if is_outage(error):
        return Outcome.OUTAGE
    return Outcome.ONE_BY_ONE


def handle(
    batch: Sequence[Item], *,
    run_batch: Callable[[Sequence[Item]], BaseException | None],
    one_by_one: Callable[[Sequence[Item]], None],
    acknowledge: Callable[[Sequence[Item]], None],
    requeue: Callable[[Sequence[Item], BaseException], None],
) -> Outcome:
    """Applies `batch` whole if it can, else decides what becomes of its messages.

    `run_batch` returns the error that stopped the batch (None: applied); `one_by_one`
    applies each item as if it had arrived alone and settles it itself.
    """
    if len(batch) == 1:
        one_by_one(batch)
        return Outcome.ONE_BY_ONE
    error = run_batch(batch)
    if error is None:
        acknowledge(batch)
        return Outcome.APPLIED
    result = outcome(error)
    if result is Outcome.OUTAGE:
        requeue(batch, error)
    else:
        one_by_one(batch)
    return result

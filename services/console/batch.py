"""Batch actions: the same command sent for several cases, one command per case, each
answered on its own. Nothing is all-or-nothing: a refusal for one case is listed beside
it and the others go on, as the services would answer them one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.console.apis import Answer

MAX_BATCH = 200  # cases per batch: a page of a list; more is a mistake, not a workload


@dataclass(frozen=True)
class Outcome:
    case_id: str
    answer: Answer


def run_batch(case_ids: Iterable[str], command: Callable[[str], Answer]) -> list[Outcome]:
    chosen = list(dict.fromkeys(i for i in case_ids if i))[:MAX_BATCH]
    return [Outcome(case_id, command(case_id)) for case_id in chosen]

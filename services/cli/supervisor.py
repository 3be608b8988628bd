"""Keeping the local run's processes running (issue #18, finding 3).

Before, one crashed service made `caseplatform run` stop all six: `kill -9` of verification
left 131 of 200 submissions in flight with "connection refused", and nothing restarted
anything. Now a process that exits is started again alone, after a pause that doubles with
each exit that follows soon after a start (1 s up to 30 s) and is forgotten once the
process has run a minute; the others keep serving meanwhile. Nothing is lost while one is
down: its events wait in its queue, and the ledger holds every command the others took.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0
STEADY_AFTER = 60.0  # seconds of running after which a process's earlier exits are forgotten


@dataclass
class _Child:
    start: Callable[[], subprocess.Popen]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    pause: float = FIRST_PAUSE
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Named children, each with the function that starts it."""

    starters: dict[str, Callable[[], subprocess.Popen]]
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    children: dict[str, _Child] = field(init=False)

    def __post_init__(self) -> None:
        self.children = {name: _Child(start) for name, start in self.starters.items()}

    def start_all(self) -> None:
        for name in self.children:
            self._start(name)

    def adopt(self, name: str, proc: subprocess.Popen, start: Callable[[], subprocess.Popen]) -> None:
        """Watches a process started before, and restarts it with `start`."""
        self.children[name] = _Child(start, proc, self.clock())

    def _start(self, name: str) -> None:
        child = self.children[name]
        child.proc, child.started_at, child.restart_at = child.start(), self.clock(), None

    def tend(self) -> None:
        """One look at every child: an exit is noted and its restart scheduled; a restart due is made."""
        now = self.clock()
        for name, child in self.children.items():
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self.say(f"caseplatform: starting {name} again")
                    try:
                        self._start(name)
                    except Exception as exc:  # noqa: BLE001 - a failed start is retried like an exit
                        self.say(f"caseplatform: {name} did not start ({exc}); trying again in {child.pause:.0f} s")
                        child.restart_at = now + child.pause
                        child.pause = min(child.pause * 2, LONGEST_PAUSE)
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            if now - child.started_at >= STEADY_AFTER:
                child.pause = FIRST_PAUSE
            self.say(f"caseplatform: {name} exited with {child.proc.returncode}; the others keep serving; "
                     f"restarting it in {child.pause:.0f} s")
            child.restart_at = now + child.pause
            child.pause = min(child.pause * 2, LONGEST_PAUSE)

    def processes(self) -> list[subprocess.Popen]:
        return [c.proc for c in self.children.values() if c.proc is not None]

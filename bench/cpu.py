"""What one command costs the machine in CPU, over its run and the drain after it, part by part.

Two cores give 2,000 ms of CPU a second. A command that costs the machine X ms of CPU in all
(its request and transaction, the relay publishing its events, six services projecting them,
PostgreSQL and RabbitMQ serving all of that) cannot be done more often than 2,000 / X times a
second, however the work is scheduled: that is the ceiling a measured peak is held against, and
the parts say which of them a change must make cheaper to move it.

Read from /proc (Linux): each service process's own time; PostgreSQL's, as the sum of its
processes (the postmaster's reaped children included, so a backend that exits is not lost); the
broker's and the S3 server's by process name; the load generator's (this process, which is on the
same cores but is not the system); and the machine's busy time, of which what no part accounts
for is `other` (anything else running, the kernel's own work). What the system spends idle (its
timers, heartbeats and polls, measured for a few seconds with nothing to do) is taken off each part
for the time a run lasted, so a short run is not charged for the clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
GROUPS = {"postgres": ("postgres",), "rabbitmq": ("beam.smp", "erl_child_setup", "epmd"), "s3": ("weed",)}


def _stat_fields(pid: int | str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone between the listing and the read
        return None
    # the command name is in parentheses and may hold spaces; the fields after it are numbers
    return text[text.rindex(")") + 2:].split()


def process_cpu_s(pid: int | str, reaped_children: bool = False) -> float:
    """utime + stime of a process (fields 14 and 15 of its stat), and of its reaped children if asked."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks * TICK_S


def _by_name() -> dict[str, float]:
    names = {name: group for group, names in GROUPS.items() for name in names}
    totals = dict.fromkeys(GROUPS, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            group = names.get((entry / "comm").read_text().strip())
        except OSError:
            continue
        if group:
            totals[group] += process_cpu_s(entry.name, reaped_children=True)
    return totals


def machine_busy_s() -> float:
    """Every core's time not idle or waiting, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) * TICK_S


class CpuMeter:
    """Readings of each part's CPU seconds; `per_command` turns two readings into milliseconds a command."""

    def __init__(self, services: Mapping[str, int]):
        self.services = dict(services)  # name -> pid

    def read(self) -> dict[str, float]:
        own = os.times()
        return {
            **{f"service.{name}": process_cpu_s(pid) for name, pid in self.services.items()},
            **_by_name(),
            "load_generator": own.user + own.system,
            "machine": machine_busy_s(),
            "wall": time.monotonic(),
        }

    def idle(self, seconds: float = 3.0) -> dict[str, float]:
        """Each part's CPU seconds a second while nothing is asked of the system."""
        before = self.read()
        time.sleep(seconds)
        after = self.read()
        wall = after["wall"] - before["wall"]
        return {part: (after[part] - before[part]) / wall for part in before if part != "wall"}

    @staticmethod
    def per_command(before: dict[str, float], after: dict[str, float], commands: int,
                    idle: Mapping[str, float] | None = None) -> dict:
        if commands <= 0:
            return {}
        wall = after["wall"] - before["wall"]
        spent = {part: max(0.0, after[part] - before[part] - (idle or {}).get(part, 0.0) * wall)
                 for part in before if part != "wall"}
        parts = {part: s for part, s in spent.items() if part != "machine"}
        # The machine's busy time less the generator's: the system's processes and the kernel's
        # work for them. Not less than what those processes measured themselves spend: an idle
        # reading taken while something else was finishing takes too much off the machine (a
        # smoke run beside other tests gave -0.9 ms a command).
        system_s = max(spent["machine"] - spent["load_generator"],
                       sum(s for part, s in parts.items() if part != "load_generator"))
        ms = {part: round(1000 * s / commands, 2) for part, s in parts.items()}
        ms["other"] = round(1000 * (spent["machine"] - sum(parts.values())) / commands, 2)
        system_ms = 1000 * system_s / commands
        cores = os.cpu_count() or 1
        return {
            "ms_per_command": ms,
            "system_ms_per_command": round(system_ms, 2),
            # with the load generator: for a baseline the generator is the application itself
            "machine_ms_per_command": round(1000 * spent["machine"] / commands, 3),
            # the rate the machine's cores would allow this command if nothing else ran on them
            "ceiling_per_s": round(cores * 1000 / system_ms, 1) if system_ms > 0 else None,
            "seconds": round(wall, 2),
        }


__all__ = ["CpuMeter", "machine_busy_s", "process_cpu_s"]

"""The CPU account of a benchmark run (bench/cpu.py): what a command costs the machine, part by part."""

from __future__ import annotations

import os

import pytest

from bench.cpu import CpuMeter, machine_busy_s, process_cpu_s


def reading(wall: float, **parts: float) -> dict[str, float]:
    base = {"service.intake": 0.0, "postgres": 0.0, "load_generator": 0.0, "machine": 0.0}
    return {**base, **parts, "wall": wall}


def test_each_part_is_shared_out_over_the_commands_and_the_rest_is_other():
    before = reading(100.0)
    after = reading(110.0, **{"service.intake": 2.0, "postgres": 1.0, "load_generator": 0.5, "machine": 4.0})
    cpu = CpuMeter.per_command(before, after, commands=100)
    assert cpu["ms_per_command"] == {"service.intake": 20.0, "postgres": 10.0, "load_generator": 5.0, "other": 5.0}
    # the load generator is on the machine but is not the system
    assert cpu["system_ms_per_command"] == 35.0
    assert cpu["machine_ms_per_command"] == 40.0
    assert cpu["ceiling_per_s"] == round((os.cpu_count() or 1) * 1000 / 35.0, 1)
    assert cpu["seconds"] == 10.0


def test_what_the_system_spends_idle_is_taken_off_for_the_time_the_run_lasted():
    before = reading(0.0)
    after = reading(10.0, **{"service.intake": 2.0, "machine": 2.5})
    idle = {"service.intake": 0.05, "machine": 0.05}  # 50 ms a second each
    cpu = CpuMeter.per_command(before, after, commands=10, idle=idle)
    assert cpu["ms_per_command"]["service.intake"] == pytest.approx(150.0)
    assert cpu["system_ms_per_command"] == pytest.approx(200.0)


def test_the_system_costs_at_least_what_its_processes_spent_when_the_idle_reading_took_too_much_off():
    """An idle reading taken while something else ran on the machine: its busy time less that
    idle is below what the generator alone spent, and the system's figure came out negative."""
    after = reading(10.0, **{"service.intake": 2.0, "load_generator": 0.5, "machine": 3.0})
    cpu = CpuMeter.per_command(reading(0.0), after, commands=10, idle={"machine": 0.28})
    assert cpu["system_ms_per_command"] == pytest.approx(200.0)  # the intake process's own 2 s
    assert cpu["ceiling_per_s"] == round((os.cpu_count() or 1) * 1000 / 200.0, 1)
    assert cpu["ms_per_command"]["other"] < 0  # shown as measured: the reading was disturbed


def test_no_command_done_gives_no_figure_rather_than_a_division_by_zero():
    assert CpuMeter.per_command(reading(0.0), reading(1.0, machine=1.0), commands=0) == {}


def test_this_process_and_the_machine_are_read_from_proc():
    before_own, before_machine = process_cpu_s(os.getpid()), machine_busy_s()
    sum(i * i for i in range(2_000_000))  # some CPU of this process
    assert process_cpu_s(os.getpid()) > before_own
    assert machine_busy_s() > before_machine
    assert process_cpu_s(2**22 + 12345) == 0.0  # a process that is not there counts nothing

"""The benchmarks run end to end: `python -m bench --smoke`, the smallest configuration, on the real
PostgreSQL, RabbitMQ and S3 server, with every service as a process.

What is checked is the shape of what a run leaves behind: every figure the issue asks for is
in the JSON, of the right type and in a possible range, the targets are judged, the chart is a
PNG. Never how fast anything was: the numbers of a run on a shared machine say nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from numbers import Real
from pathlib import Path

import pytest

from shared.infra.config import SERVICES
from shared.infra.ledger import SNAPSHOT_INTERVAL

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICE_OF = {"submit": "intake", "endorse": "verification", "milestone_report": "review"}
LATENCY_KEYS = ("count", "p50_ms", "p95_ms", "p99_ms", "max_ms")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(out)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"python -m bench --smoke failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    [result] = out.glob("*.json")
    return json.loads(result.read_text()), out, done.stdout


def positive(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and value > 0


def latencies_are_ordered(summary: dict) -> None:
    assert all(k in summary for k in LATENCY_KEYS), summary
    assert summary["count"] > 0
    assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"] <= summary["max_ms"]


def test_the_run_records_the_machine_the_versions_and_the_settings(run):
    result, _, _ = run
    assert result["errors"] == {}
    assert "partial" not in result  # what each section writes as it ends is replaced by the whole run's
    assert result["mode"] == "smoke"
    machine = result["machine"]
    assert positive(machine["cores"]) and positive(machine["memory_mib"]) and machine["cpu_model"]
    for name in ("python", "postgresql", "rabbitmq", "eventsourcing", "nameko", "psycopg"):
        assert isinstance(machine["versions"][name], str) and machine["versions"][name], name
    assert machine["versions"]["psycopg_implementation"] == "binary"  # what the services run on (issue #22)
    sizes = result["settings"]["sizes"]
    assert sizes["mode"] == "smoke" and sizes["concurrency"]
    assert int(result["settings"]["services"]["MAX_UPLOAD_BYTES"]) >= max(sizes["upload_sizes"])


def test_commands_and_their_baselines_at_every_concurrency_level(run):
    result, _, _ = run
    levels = result["settings"]["sizes"]["concurrency"]
    for name in ("raw_insert", "eventsourcing_save", "eventsourcing_save_lock_free", "eventsourcing_save_grouped"):
        assert [lv["clients"] for lv in result["baselines"][name]] == levels
        for level in result["baselines"][name]:
            assert positive(level["per_s"]) and level["errors"] == 0
            latencies_are_ordered(level)
    for level in result["baselines"]["eventsourcing_save_grouped"]:
        assert level["events_per_s"] == pytest.approx(level["per_s"] * 8, abs=1)
    for kind in ("submit", "endorse", "milestone_report"):
        measured = result["commands"][kind]
        assert [lv["clients"] for lv in measured["levels"]] == levels
        for level in measured["levels"]:
            assert positive(level["per_s"]) and level["ok"] > 0 and level["errors"] == 0, level
            latencies_are_ordered(level)
            cpu = level["cpu"]  # what a command cost the machine, part by part
            assert positive(cpu["system_ms_per_command"]) and positive(cpu["ceiling_per_s"])
            assert {f"service.{s}" for s in SERVICES} | {"postgres", "rabbitmq", "load_generator", "other"} \
                <= set(cpu["ms_per_command"])
            assert positive(cpu["ms_per_command"][f"service.{SERVICE_OF[kind]}"])
        assert measured["peak_per_s"] == max(lv["per_s"] for lv in measured["levels"])
        half = measured["half_peak"]
        assert half["offered_per_s"] == pytest.approx(measured["peak_per_s"] / 2, abs=0.1)
        assert half["ok"] > 0 and half["errors"] == 0
        latencies_are_ordered(half)


def test_the_http_floor_under_every_command_with_its_cpu(run):
    result, _, _ = run
    levels = result["settings"]["sizes"]["concurrency"]
    assert [lv["clients"] for lv in result["floor"]] == levels
    for level in result["floor"]:
        assert positive(level["per_s"]) and level["errors"] == 0
        latencies_are_ordered(level)
        assert positive(level["cpu"]["system_ms_per_command"])


def test_propagation_lag_is_measured_for_every_command_sent_at_both_rates(run):
    lag = run[0]["propagation"]
    light = lag["light_load"]
    assert light["offered_per_s"] < lag["offered_per_s"]
    for level in (lag, light):
        assert level["command"] == "endorse" and level["observer"] == "review read model"
        assert level["not_seen_within_60_s"] == 0
        assert level["command_latency"]["ok"] == level["lag"]["count"] > 0
        latencies_are_ordered(level["lag"])


def test_replay_with_and_without_snapshots_beside_the_raw_rows(run):
    result, _, _ = run
    replay = result["replay"]
    assert sorted(int(n) for n in replay["cases"]) == sorted(result["settings"]["sizes"]["case_events"])
    for case in replay["cases"].values():
        for key in ("raw_rows_ms", "replay_ms", "snapshot_worst_case_ms", "snapshot_at_head_ms", "take_snapshot_ms"):
            assert positive(case[key]), key
        assert case["events_after_snapshot_worst_case"] == replay["snapshot_interval"] == SNAPSHOT_INTERVAL
    assert replay["typical_case"]["events"] >= 20 and positive(replay["typical_case"]["replay_ms"])


def test_rebuild_of_every_read_model_beside_the_raw_log_read(run):
    result, _, _ = run
    rebuild = result["rebuild"]
    assert rebuild["ledger_events"] == result["ledger_build"]["events"] >= result["settings"]["sizes"]["ledger_events"]
    assert positive(rebuild["raw_read"]["events_per_s"]) and rebuild["raw_read"]["events"] == rebuild["ledger_events"]
    assert rebuild["decoded_read"]["events"] == rebuild["ledger_events"]
    assert set(rebuild["services"]) == set(SERVICES)  # every service with read models, notifications included
    for service in rebuild["services"].values():
        assert 0 < service["applied"] <= service["log_events_read"] <= rebuild["ledger_events"]
        assert positive(service["log_events_per_s"]) and positive(service["per_event"]["events_per_s"])
    assert positive(rebuild["all_read_models"]["events_per_s"]) and positive(rebuild["ratio_to_raw_read"])


def test_uploads_through_the_service_beside_the_direct_put_with_its_memory(run):
    result, _, _ = run
    documents = result["documents"]
    assert [u["bytes"] for u in documents["uploads"]] == result["settings"]["sizes"]["upload_sizes"]
    for upload in documents["uploads"]:
        for key in ("service_mib_per_s", "direct_mib_per_s", "ratio_to_direct", "service_rss_before_mib"):
            assert positive(upload[key]), key
        assert upload["service_rss_peak_mib"] >= upload["service_rss_before_mib"]
    assert isinstance(documents["memory_flat"], bool)


def test_hash_chain_and_merkle_verification_rates(run):
    result, _, _ = run
    verification = result["verification"]
    assert verification["ledger_events"] == result["ledger_build"]["events"]
    assert verification["follower_pass"]["events"] == verification["ledger_events"]
    for key in ("follower_pass", "verify_ledger"):
        assert positive(verification[key]["events_per_s"]), key
    assert verification["merkle_root"]["leaves"] == verification["ledger_events"]
    assert positive(verification["merkle_root"]["leaves_per_s"])
    assert verification["verify_case"]["events"] > 0 and positive(verification["verify_case"]["ms"])


def test_every_target_is_judged_and_the_table_and_chart_are_written(run):
    result, out, stdout = run
    ids = {t["id"] for t in result["targets"]}
    for kind in ("submit", "endorse", "milestone_report"):
        assert {f"throughput.{kind}", f"latency.{kind}"} <= ids
    assert {"throughput.endorse.store", "throughput.milestone_report.store"} <= ids
    assert {"propagation.p99", "replay.snapshot_at_head_ms", "replay.snapshot_worst_case_ms", "rebuild.ratio",
            "upload.memory"} <= ids
    assert all(isinstance(t["met"], bool) for t in result["targets"])
    assert "Targets (issue #22)" in stdout and "CPU a command costs the machine" in stdout
    [chart] = out.glob("*.png")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

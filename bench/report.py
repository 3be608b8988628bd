"""The run's results: the targets of issue #22 judged, a table on the terminal, a JSON file and a chart."""

from __future__ import annotations

import json
from pathlib import Path

from bench.documents import size_text as _size

MiB = 1024 * 1024


def _peak(levels: list[dict]) -> float:
    return max((level["per_s"] for level in levels), default=0.0)


# issue #22: endorse and milestone report a quarter of raw INSERT (and the store's own save), submit a tenth
THROUGHPUT_SHARE = {"submit": 0.1, "endorse": 0.25, "milestone_report": 0.25}


def _target(id_: str, description: str, measured, target, met: bool, note: str = "") -> dict:
    return {"id": id_, "target": description, "measured": measured, "threshold": target, "met": bool(met),
            "note": note}


def judge(results: dict) -> list[dict]:
    """Each target of the issue, measured as the issue says, with how far off it is."""
    targets = []
    baselines, commands = results.get("baselines") or {}, results.get("commands") or {}
    raw_peak = _peak(baselines.get("raw_insert", []))
    save_peak = _peak(baselines.get("eventsourcing_save", []))
    for kind, r in commands.items():
        share = THROUGHPUT_SHARE[kind]
        if raw_peak:
            ratio = r["peak_per_s"] / raw_peak
            note = f"{r['peak_per_s']:,.1f}/s vs raw INSERT {raw_peak:,.0f}/s"
            if 0 < ratio < share:
                note += f"; {share / ratio:,.1f}× short"
            targets.append(_target(
                f"throughput.{kind}", f"{kind}: peak commands/s at least {share:g} of the raw single-row INSERT peak",
                round(ratio, 4), share, ratio >= share, note))
        if save_peak and kind != "submit":
            ratio = r["peak_per_s"] / save_peak
            targets.append(_target(
                f"throughput.{kind}.store", f"{kind}: peak commands/s at least the store's own one-event save",
                round(ratio, 4), 1.0, ratio >= 1.0, f"{r['peak_per_s']:,.1f}/s vs eventsourcing save "
                f"{save_peak:,.0f}/s" + ("" if ratio >= 1 else f"; {1 / ratio:,.1f}× short")))
        p99 = r["half_peak"]["p99_ms"]
        if p99 is None:
            note = "not measured: no command completed at half the peak"
        else:
            note = f"at {r['half_peak']['offered_per_s']}/s offered" + ("" if p99 < 50 else f"; {p99 / 50:,.1f}× over")
        targets.append(_target(f"latency.{kind}", f"{kind}: p99 latency under 50 ms at half the peak rate", p99, 50,
                               p99 is not None and p99 < 50, note))
    lag = results.get("propagation")
    if lag and lag["lag"]["p99_ms"] is not None:
        p99 = lag["lag"]["p99_ms"]
        targets.append(_target(
            "propagation.p99", f"propagation lag p99 under 100 ms at {lag['offered_per_s']:g} commands/s", p99, 100,
            p99 < 100 and lag["not_seen_within_60_s"] == 0,
            f"{lag['achieved_per_s']}/s achieved" + ("" if p99 < 100 else f"; {p99 / 100:,.1f}× over")))
    replay = results.get("replay")
    if replay and replay["cases"]:
        largest = max(replay["cases"].values(), key=lambda c: c["events"])
        size = f"{largest['events']:,}-event case"
        every = replay["snapshot_interval"]
        worst = f"as shipped, worst case (the latest snapshot {every} events behind)"
        for key, how in (("snapshot_worst_case_ms", worst),
                         ("snapshot_at_head_ms", "as shipped, a snapshot at its head")):
            ms = largest[key]
            targets.append(_target(f"replay.{key}", f"replay of a {size} under 20 ms, {how}", round(ms, 2), 20,
                                   ms < 20, "" if ms < 20 else f"{ms / 20:,.1f}× over"))
    rebuild = results.get("rebuild")
    if rebuild:
        ratio = rebuild["ratio_to_raw_read"]
        targets.append(_target(
            "rebuild.ratio", "read-model rebuild at least 40% of the raw notification-log read rate", round(ratio, 4),
            0.4, ratio >= 0.4,
            f"{rebuild['all_read_models']['events_per_s']:,.0f}/s vs raw {rebuild['raw_read']['events_per_s']:,.0f}/s"
            + ("" if ratio >= 0.4 else f"; {0.4 / ratio:,.1f}× short")))
    documents = results.get("documents")
    if documents:
        for upload in documents["uploads"]:
            ratio = upload["ratio_to_direct"]
            targets.append(_target(
                f"upload.{upload['bytes']}", f"upload of {_size(upload['bytes'])} at least 80% of the direct SDK put",
                round(ratio, 3), 0.8, ratio >= 0.8,
                f"{upload['service_mib_per_s']:,.1f} vs {upload['direct_mib_per_s']:,.1f} MiB/s"))
        growth = max(u["service_rss_growth_mib"] for u in documents["uploads"])
        targets.append(_target(
            "upload.memory", f"flat service memory: growth under {documents['flat_bound_mib']} MiB for every size",
            round(growth, 1), documents["flat_bound_mib"], documents["memory_flat"], "largest growth, MiB"))
    return targets


# -- the table -------------------------------------------------------------------------


def table(results: dict) -> str:
    lines = [f"caseplatform benchmarks ({results['mode']}), {results['started_at']}, "
             f"{results['machine']['cores']} cores, {results['machine']['cpu_model']}, "
             f"load average {results['machine']['load_average_at_start']} → {results.get('load_average_at_end')}"]

    def section(title: str) -> None:
        lines.extend(["", title, "-" * len(title)])

    if results.get("commands") or results.get("baselines"):
        section("1. Commands and baselines: per second (p50 / p95 / p99 ms)")
        rows = {**{f"HTTP {k}": v["levels"] for k, v in (results.get("commands") or {}).items()},
                **{k: v for k, v in (results.get("baselines") or {}).items()}}
        levels = sorted({lvl["clients"] for ls in rows.values() for lvl in ls})
        lines.append(f"{'':<26}" + "".join(f"{str(c) + ' clients':>30}" for c in levels))
        for name, ls in rows.items():
            by = {lvl["clients"]: lvl for lvl in ls}
            cells = "".join(
                (f"{by[c]['per_s']:>9,.0f}/s "
                 f"({by[c]['p50_ms']:.1f}/{by[c]['p95_ms']:.1f}/{by[c]['p99_ms']:.1f})").rjust(30)
                if c in by and by[c]["p50_ms"] is not None else f"{'-':>30}" for c in levels)
            lines.append(f"{name:<26}{cells}")
        for kind, r in (results.get("commands") or {}).items():
            h = r["half_peak"]
            lines.append(f"{kind} at half its peak ({h['offered_per_s']}/s offered, {h['per_s']}/s done): "
                         f"p50 {h['p50_ms']} ms, p95 {h['p95_ms']} ms, p99 {h['p99_ms']} ms, errors {h['errors']}")
    cpu = {kind: [lvl for lvl in r["levels"] if lvl.get("cpu")] for kind, r in (results.get("commands") or {}).items()}
    if any(cpu.values()) or results.get("baselines") or results.get("floor"):
        section("1a. CPU a command costs the machine, ms, over its run and drain (at the peak's concurrency)")
        for kind, levels in cpu.items():
            if not levels:
                continue
            at_peak = max(levels, key=lambda lvl: lvl["per_s"])
            c = at_peak["cpu"]
            parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(c["ms_per_command"].items(), key=lambda kv: -kv[1])
                              if v >= 0.05)
            lines.append(f"{kind:<17} {c['system_ms_per_command']:.1f} ms: the cores allow {c['ceiling_per_s']}/s, "
                         f"{at_peak['per_s']}/s done ({parts})")
        for name, levels in {"GET health/live": results.get("floor") or [], **(results.get("baselines") or {})}.items():
            measured = [lvl for lvl in levels if lvl.get("cpu")]
            if measured:
                at_peak = max(measured, key=lambda lvl: lvl["per_s"])
                c = at_peak["cpu"]
                how = (f"{c['system_ms_per_command']:.2f} ms a request, the client not included"
                       if name.startswith("GET") else
                       f"{c['machine_ms_per_command']:.3f} ms an operation, the client included")
                lines.append(f"{name:<17} {how}, at {at_peak['per_s']:,.0f}/s")
    if results.get("horizontal"):
        section("1b. A second process of every service: the same commands, callers shared out between both")
        for kind, r in results["horizontal"].items():
            one, two = r["one_process"], r["two_processes"]
            lines.append(f"{kind:<17} {one['clients']} clients: one process {one['per_s']:,.1f}/s, two "
                         f"{two['per_s']:,.1f}/s (x{r['ratio']}); p99 {one['p99_ms']} → {two['p99_ms']} ms")
    if results.get("propagation"):
        p = results["propagation"]
        section("2. Propagation lag (endorse → review's read model)")
        for level in (p, p.get("light_load")):
            if level:
                lines.append(f"{level['offered_per_s']:g}/s offered, {level['achieved_per_s']}/s done: lag p50 "
                             f"{level['lag']['p50_ms']} ms, p95 {level['lag']['p95_ms']} ms, p99 "
                             f"{level['lag']['p99_ms']} ms, max {level['lag']['max_ms']} ms; "
                             f"{level['not_seen_within_60_s']} not seen")
    if results.get("replay"):
        r = results["replay"]
        section(f"3a. Replay of one case, ms (median of {r['repeats']})")
        lines.append(f"{'events':>10}{'raw rows':>12}{'replay':>12}{'snapshot, worst':>18}{'snapshot at head':>18}"
                     f"{'take snapshot':>16}")
        for c in r["cases"].values():
            lines.append(f"{c['events']:>10,}{c['raw_rows_ms']:>12.1f}{c['replay_ms']:>12.1f}"
                         f"{c['snapshot_worst_case_ms']:>18.1f}{c['snapshot_at_head_ms']:>18.1f}{c['take_snapshot_ms']:>16.1f}")
        t = r["typical_case"]
        lines.append(f"a typical case ({t['events']} events, submitted to published): replay {t['replay_ms']:.1f} ms")
    if results.get("rebuild"):
        r = results["rebuild"]
        section(f"3b. Rebuilding the read models from a ledger of {r['ledger_events']:,} events, events/s")
        lines.append(f"raw read of the log {r['raw_read']['events_per_s']:>12,.0f}/s")
        lines.append(f"log read and decoded {r['decoded_read']['events_per_s']:>11,.0f}/s")
        for s, v in r["services"].items():
            lines.append(f"{s:<20}{v['log_events_per_s']:>12,.0f}/s  "
                         f"({v['log_events_read']:,} of {r['ledger_events']:,} "
                         f"in {v['seconds']:.0f} s{'' if v['complete'] else ', time-boxed'}); one transaction per "
                         f"event {v['per_event']['events_per_s'] or 0:,.0f}/s")
        a = r["all_read_models"]
        lines.append(f"all seven at once {a['events_per_s']:>13,.0f}/s ({r['ratio_to_raw_read']:.1%} of the raw read; "
                     f"the whole log would take {a['estimated_seconds_for_whole_log'] / 60:,.1f} min)")
    if results.get("documents"):
        d = results["documents"]
        section("4. Uploads: through the service vs a direct SDK put (MiB/s), documents RSS (MiB)")
        for u in d["uploads"]:
            lines.append(f"{_size(u['bytes']):>9}: service {u['service_mib_per_s']:>8,.1f}  "
                         f"direct {u['direct_mib_per_s']:>8,.1f}"
                         f"  ({u['ratio_to_direct']:.0%})   RSS {u['service_rss_before_mib']:,.0f} → "
                         f"{u['service_rss_peak_mib']:,.0f} (+{u['service_rss_growth_mib']:,.1f})")
    if results.get("verification"):
        v = results["verification"]
        section(f"5. Verification over {v['ledger_events']:,} events")
        lines.append(f"follower pass (hash, chain, record, sign) "
                     f"{v['follower_pass']['events_per_s']:>10,.0f} events/s")
        lines.append(f"verify ledger (chains + Merkle + checkpoints) "
                     f"{v['verify_ledger']['events_per_s']:>7,.0f} events/s")
        lines.append(f"Merkle root from recorded leaves {v['merkle_root']['leaves_per_s']:>19,.0f} leaves/s")
        lines.append(f"verify one case with proofs ({v['verify_case']['events']} events) "
                     f"{v['verify_case']['ms']:>10,.0f} ms")
    if results.get("profile"):
        section("Profile of the command path (py-spy, share of the command's samples)")
        for kind, p in results["profile"].items():
            top = ", ".join(f"{k} {v:.0%}" for k, v in list(p["command_by_library"].items())[:6])
            lines.append(f"{kind} ({p['service']}): {top}")
    if results.get("targets"):
        section("Targets (issue #22)")
        for t in results["targets"]:
            lines.append(f"[{'met ' if t['met'] else 'MISS'}] {t['target']}: {t['measured']} "
                         f"(threshold {t['threshold']}) {t['note']}")
    if results.get("errors"):
        section("Errors")
        for name, error in results["errors"].items():
            lines.append(f"{name}: {error.strip().splitlines()[-1]}")
    return "\n".join(lines)


# -- files -----------------------------------------------------------------------------


def write_json(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str) + "\n")


def _client_ticks(ax, series: dict) -> None:
    levels = sorted({lv["clients"] for levels in series.values() for lv in levels})
    if levels:
        ax.set_xticks(levels, [str(c) for c in levels])
        ax.minorticks_off()


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    fig.suptitle(f"caseplatform benchmarks ({results['mode']}) {results['started_at']} — "
                 f"{results['machine']['cores']} cores, {results['machine']['cpu_model']}; "
                 f"load average at start {results['machine']['load_average_at_start']}", fontsize=11)
    series = {**{f"HTTP {k}": v["levels"] for k, v in (results.get("commands") or {}).items()},
              **{k.replace("_", " "): v for k, v in (results.get("baselines") or {}).items()}}

    ax = axes[0][0]
    for name, levels in series.items():
        ax.plot([lv["clients"] for lv in levels], [lv["per_s"] for lv in levels], marker="o", label=name)
    ax.set(title="1. Throughput", xlabel="concurrent clients", ylabel="operations / s", xscale="log", yscale="log")
    _client_ticks(ax, series)
    if series:
        ax.legend(fontsize=8)

    ax = axes[0][1]
    for name, levels in series.items():
        points = [(lv["clients"], lv["p99_ms"]) for lv in levels if lv["p99_ms"] is not None]
        ax.plot([c for c, _ in points], [p for _, p in points], marker="o", label=name)
    ax.axhline(50, color="grey", linestyle="--", linewidth=1)
    ax.set(title="1. p99 latency (target: < 50 ms at half the peak)", xlabel="concurrent clients", ylabel="ms",
           xscale="log", yscale="log")
    _client_ticks(ax, series)
    if series:
        ax.legend(fontsize=8)

    ax = axes[0][2]
    lag = results.get("propagation")
    if lag:
        names = ["p50", "p95", "p99", "max"]
        ax.bar(names, [lag["lag"][f"{n}_ms"] or 0 for n in names], color="tab:purple")
        ax.axhline(100, color="grey", linestyle="--", linewidth=1)
        ax.set(title=f"2. Lag at {lag['offered_per_s']:g} endorsements/s (target p99 < 100 ms)", ylabel="ms")

    ax = axes[1][0]
    replay = results.get("replay")
    if replay:
        cases = list(replay["cases"].values())
        keys = [("raw_rows_ms", "raw rows"), ("replay_ms", "replay"), ("snapshot_worst_case_ms", "snapshot, worst"),
                ("snapshot_at_head_ms", "snapshot at head")]
        width = 0.8 / len(keys)
        for i, (key, label) in enumerate(keys):
            ax.bar([j + i * width for j in range(len(cases))], [c[key] for c in cases], width, label=label)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(cases))], [f"{c['events']:,} events" for c in cases])
        ax.axhline(20, color="grey", linestyle="--", linewidth=1)
        ax.set(title="3. Reading one case (target: 10,000 events < 20 ms)", ylabel="ms", yscale="log")
        ax.legend(fontsize=8)

    ax = axes[1][1]
    rates = {}
    if results.get("rebuild"):
        r = results["rebuild"]
        rates["raw log read"] = r["raw_read"]["events_per_s"]
        rates["log decoded"] = r["decoded_read"]["events_per_s"]
        rates.update({f"rebuild {s}": v["log_events_per_s"] for s, v in r["services"].items()})
        rates["rebuild all seven"] = r["all_read_models"]["events_per_s"]
    if results.get("verification"):
        v = results["verification"]
        rates["follower pass"] = v["follower_pass"]["events_per_s"]
        rates["verify ledger"] = v["verify_ledger"]["events_per_s"]
        rates["Merkle root"] = v["merkle_root"]["leaves_per_s"]
    if rates:
        ax.barh(list(rates), list(rates.values()), color="tab:green")
        ax.set(title="3, 5. Rebuild and verification", xlabel="events / s", xscale="log")
        ax.invert_yaxis()

    ax = axes[1][2]
    documents = results.get("documents")
    if documents:
        uploads = documents["uploads"]
        xs = range(len(uploads))
        ax.bar([x - 0.2 for x in xs], [u["service_mib_per_s"] for u in uploads], 0.4, label="through the service")
        ax.bar([x + 0.2 for x in xs], [u["direct_mib_per_s"] for u in uploads], 0.4, label="direct SDK put")
        for x, u in enumerate(uploads):
            ax.annotate(f"RSS +{u['service_rss_growth_mib']:.0f} MiB", (x - 0.2, u["service_mib_per_s"]),
                        ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(xs), [_size(u["bytes"]) for u in uploads])
        ax.set(title="4. Uploads (target: ≥ 80% of direct, flat memory)", ylabel="MiB / s")
        ax.legend(fontsize=8)

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)

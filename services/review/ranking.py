"""The ranking of a direction's cases by their experts' mean score. Pure: no database, no nameko."""

from __future__ import annotations

from statistics import mean


def rank(totals: dict[str, list[float]]) -> list[dict]:
    """Cases by mean total score, highest first; equal means share a rank and are marked tied.

    Standard competition ranking (1, 2, 2, 4): two cases with the same mean are
    shown as a tie, never ordered by anything else. Means are compared after
    rounding to 4 decimal places so that float noise does not break a real tie.
    Cases without any score come last, unranked.
    """
    scored = {c: round(mean(t), 4) for c, t in totals.items() if t}
    ordered = sorted(scored.items(), key=lambda item: (-item[1], item[0]))
    counts: dict[float, int] = {}
    for _, m in ordered:
        counts[m] = counts.get(m, 0) + 1
    rows, position = [], 0
    for i, (case_id, m) in enumerate(ordered):
        if i == 0 or m != ordered[i - 1][1]:
            position = i + 1
        rows.append({"case_id": case_id, "mean_score": m, "experts": len(totals[case_id]),
                     "rank": position, "tied": counts[m] > 1})
    rows += [{"case_id": c, "mean_score": None, "experts": 0, "rank": None, "tied": False}
             for c in sorted(c for c, t in totals.items() if not t)]
    return rows

"""A SAMPLE holiday arrangement for 2027: invented test data, NOT the State Council's 2027 arrangement.

It is what the documentation's example and the tests record, so that a notice can be counted into
2027 before the real arrangement exists. Its days are chosen to matter: 4 January (a Monday) is off,
so a notice counted on it ends a working day later than on ordinary weekdays. The amendment takes
that day back, so that a test can show a notice keeps the dates it was opened with.
"""

from __future__ import annotations

from typing import Any

SAMPLE_YEAR = 2027

SAMPLE_ARRANGEMENT_2027: dict[str, Any] = {
    "year": SAMPLE_YEAR,
    "notice_number": "国办发明电〔2026〕SAMPLE号",
    "notice_title": "SAMPLE 国务院办公厅关于2027年部分节假日安排的通知（测试数据，并非真实安排）",
    "days_off": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04",
                 "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11",
                 "2027-02-12"],
    "swapped_working_days": ["2027-01-09", "2027-02-20"],
    "note": "SAMPLE test data, invented: not the State Council's 2027 arrangement",
}

SAMPLE_AMENDMENT_2027: dict[str, Any] = {
    **{k: v for k, v in SAMPLE_ARRANGEMENT_2027.items() if k != "year"},
    "days_off": [d for d in SAMPLE_ARRANGEMENT_2027["days_off"] if d != "2027-01-04"],
    "swapped_working_days": ["2027-02-20"],
    "reason": "SAMPLE correction: 4 January is a working day after all (test data)",
}

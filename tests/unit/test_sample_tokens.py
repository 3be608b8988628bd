"""The demo's and the tests' SAMPLE tokens are signed in again before they expire: a module
whose fixtures outlive 15 minutes (the fuzzing of six APIs) met expired tokens."""

from __future__ import annotations

import jwt

from services.cli import demo
from shared.infra.config import Settings


def test_a_token_near_its_end_is_taken_again(monkeypatch):
    now = [1_000_000.0]
    issued: list[str] = []

    def sign_in(settings, username):
        issued.append(username)
        return jwt.encode({"sub": username, "exp": int(now[0]) + 900, "n": len(issued)}, "k" * 32, algorithm="HS256")

    monkeypatch.setattr(demo, "sample_token", sign_in)
    monkeypatch.setattr(demo.time, "time", lambda: now[0])
    tokens = demo.SampleTokens(Settings.from_env({"CASEPLATFORM_DATA_DIR": "/nonexistent"}))
    assert len(issued) == len(demo.SAMPLE_SIGN_INS) == len(tokens)
    first = tokens["province"]
    now[0] += 700
    assert tokens["province"] == first  # 200 s left: kept
    now[0] += 100
    renewed = tokens["province"]  # 100 s left: signed in again
    assert renewed != first and issued[-1] == "sample-hubei-official"
    assert dict(tokens)["province"] == renewed

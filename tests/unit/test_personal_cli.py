"""`caseplatform personal copy` on SQLite (issue #21): a person's copy from the server holds every part,
the ledger's streams (intake's desk), the authorities' contacts (verification's own table) and the
addresses notifications keeps, and records each it showed as a reading."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from services.cli.main import main
from services.notifications import privacy as notifications_privacy
from services.notifications import readmodels as notifications_rm
from services.verification import readmodels as verification_rm
from shared.infra.personal.keystore import KeyStore

CONTACT = {"authority": "420100", "name": "SAMPLE 钱联络", "post": "SAMPLE 科长", "title": "", "phone": "13600136001",
           "updated_at": "2026-12-05T08:00:00+00:00"}


def on_sqlite(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CASEPLATFORM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEDGER_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("READMODEL_URL", f"sqlite:///{tmp_path}/{{service}}.db")
    monkeypatch.setenv("PERSONAL_KEYS_URL", f"sqlite:///{tmp_path}/keys.db")


def test_a_person_s_copy_from_the_server_finds_them_as_an_authority_s_contact_and_records_it(
        tmp_path, monkeypatch, capsys):
    on_sqlite(tmp_path, monkeypatch)
    engine = sa.create_engine(f"sqlite:///{tmp_path}/verification.db")
    verification_rm.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(verification_rm.authority_contacts.insert().values(**CONTACT))
    engine.dispose()

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"mobile": "136-0013-6001"})))
    assert main(["personal", "copy", "--officer", "sample-privacy-officer"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["subjects"] == [] and found["drafts"] == []
    assert [(c["record"], c["values"]["name"]) for c in found["contacts"]] == [("authority:420100", CONTACT["name"])]

    keys = KeyStore(f"sqlite:///{tmp_path}/keys.db")
    try:
        [reading] = keys.accesses(case_id="authority:420100")
    finally:
        keys.close()
    assert (reading["sub"], reading["route"], reading["subjects"]) == (
        "sample-privacy-officer", "caseplatform personal copy", ["contact"])
    assert CONTACT["phone"] not in json.dumps(reading)


def test_a_person_s_copy_from_the_server_finds_the_address_notifications_keeps_and_records_it(
        tmp_path, monkeypatch, capsys):
    on_sqlite(tmp_path, monkeypatch)
    email = "sample.person@example.org"
    engine = sa.create_engine(f"sqlite:///{tmp_path}/notifications.db")
    notifications_rm.create_kept(engine)
    with engine.begin() as conn:
        conn.execute(notifications_rm.people.insert().values(
            sub="SAMPLE-applicant", role="applicant", org="91440300SAMPLE0001", email=email, use_profile_email=True,
            seen_at="2026-12-05T08:00:00+00:00"))
    engine.dispose()

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"email": "Sample.Person@example.org"})))
    assert main(["personal", "copy", "--officer", "sample-privacy-officer"]) == 0
    found = json.loads(capsys.readouterr().out)
    record = notifications_privacy.record_of(email)
    assert found["addresses"]["record"] == record
    assert [p["sub"] for p in found["addresses"]["profiles"]] == ["SAMPLE-applicant"]
    assert found["addresses"]["channels"] == found["addresses"]["notices"] == []

    keys = KeyStore(f"sqlite:///{tmp_path}/keys.db")
    try:
        [reading] = keys.accesses(case_id=record)
    finally:
        keys.close()
    assert (reading["sub"], reading["route"], reading["subjects"]) == (
        "sample-privacy-officer", "caseplatform personal copy", ["email"])
    assert email not in json.dumps(reading)

"""Reminders and the calendar warning, through the notifications service's own use cases on a real
ledger and read-model database (SQLite): the clock is injected (`today`), nothing sleeps.

A SAMPLE case in implementation has two milestones: one due 2026-06-30 (a year `holidays` knows)
and one due 2027-01-15, a year no calendar has (the ministry has recorded none here): the first is
reminded once on its day and never twice; the second gives no reminder, and the ministry one
warning naming 2027, however many passes find it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from services.notifications import readmodels as rm
from services.notifications.application import Notifications
from shared.domain.access import Caller
from shared.domain.calendar import WorkingCalendar
from shared.domain.call import Call
from shared.domain.case import State
from shared.domain.notifications.reminders import remind_on, working_days_between
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.contracts import integration_event
from shared.infra.notify import outbox
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import sample_382
from tests.unit.parties import APPLICANT, MINISTRY
from tests.unit.test_case_transitions import OC_PROVINCE, drive

DUE_2026 = date(2026, 6, 30)
MILESTONES = [{"id": "m1", "title": "SAMPLE prototype", "due_on": DUE_2026.isoformat()},
              {"id": "m2", "title": "SAMPLE pilot line", "due_on": "2027-01-15"}]


def world(tmp_path):
    ledger = CaseLedger("memory://")
    case = drive(OC_PROVINCE, State.SHORTLISTED)
    case.sign_task_book(actor=MINISTRY, task_book={"targets": ["SAMPLE target"], "deadline": "2027-06-30",
                                                   "milestones": MILESTONES})
    call = Call.define(actor=MINISTRY, definition={**sample_382(case.call_id, date(2026, 1, 5)), "version": 1})
    events = list(case.pending_events)
    ledger.save(call, case)  # the test's ledger has no owner to check: every kind of event is the test's
    store = ReadModelStore(f"sqlite:///{tmp_path}/notifications.db", rm.metadata)
    rm.create_kept(store.engine)
    for event in events:
        assert store.apply_once(integration_event(event, None), rm.project)
    return ledger, store, case, events


def service_on(ledger, store, day: date) -> Notifications:
    return Notifications(ledger, store, datetime(day.year, day.month, day.day, 2, tzinfo=UTC), day, (7, 3, 1))


def rows(store) -> list:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(outbox.notifications).order_by(outbox.notifications.c.kind)))


def test_a_reminder_comes_once_on_its_working_day_and_an_unknown_year_warns_the_ministry_once(tmp_path):
    ledger, store, case, _ = world(tmp_path)
    first = service_on(ledger, store, date(2026, 1, 5))
    first.set_channels(Caller(sub=APPLICANT["sub"], role="applicant", org=APPLICANT["org"]),
                       {"email": "unit@sample.example.com"})
    first.set_channels(Caller(sub="u-miit", role="ministry", org="MIIT"), {"email": "ministry@sample.example.com"})
    seven_before = remind_on(DUE_2026, 7, WorkingCalendar(ledger.recorded_arrangement))
    day_before = date.fromordinal(seven_before.toordinal() - 1)

    service_on(ledger, store, day_before).remind()
    assert [r.kind for r in rows(store)] == ["calendar_year_unknown"], "no reminder before its day"
    warning = rows(store)[0]
    assert warning.recipient == "ministry:MIIT" and warning.address == "ministry@sample.example.com"
    assert "2027" in warning.payload["subject"] and f"case:{case.id}:milestone:m2" in warning.payload["text_en"]

    assert service_on(ledger, store, seven_before).remind() == 1
    for _ in range(2):  # the same day again, and a second process's pass: nothing twice
        assert service_on(ledger, store, seven_before).remind() == 0
    reminders = [r for r in rows(store) if r.kind == "reminder_milestone"]
    assert len(reminders) == 1
    (reminder,) = reminders
    assert reminder.recipient == f"applicant:{APPLICANT['org']}" and reminder.address == "unit@sample.example.com"
    assert "SAMPLE prototype" in reminder.payload["text_zh"] and "7 working day(s) left" in reminder.payload["text_en"]
    assert "2026" in reminder.payload["calendar"], "the reminder records the calendar it counted on"
    assert [r.kind for r in rows(store)].count("calendar_year_unknown") == 1, "the ministry is warned once"
    assert not [r for r in rows(store) if "m2" in (r.payload.get("text_en") or "") and r.kind.startswith("reminder")]


def test_a_digest_kind_waits_for_the_next_day_and_comes_as_one_mail_and_off_records_nothing(tmp_path):
    ledger, store, case, _ = world(tmp_path)
    unit = Caller(sub=APPLICANT["sub"], role="applicant", org=APPLICANT["org"])
    day = date(2026, 6, 1)
    app = service_on(ledger, store, day)
    app.set_channels(unit, {"email": "unit@sample.example.com"})
    app.set_preferences(unit, {"milestone_accepted": "daily_digest", "milestone_sent_back": "daily_digest",
                               "shortlisted": "off"})
    case.report_milestone(actor=APPLICANT, milestone_id="m1", summary="SAMPLE", evidence=[])
    case.return_milestone_report(actor=MINISTRY, milestone_id="m1", reasons=["SAMPLE 缺少检测报告"])
    case.report_milestone(actor=APPLICANT, milestone_id="m1", summary="SAMPLE again", evidence=[])
    case.accept_milestone_report(actor=MINISTRY, milestone_id="m1", note="SAMPLE 符合要求")
    events = list(case.pending_events)
    ledger.save(case)
    for event in events:
        assert store.apply_once(integration_event(event, None), lambda s, e: rm.project(s, e)
                                and app.record_event(s, e))
    assert rows(store) == [], "digest kinds wait for the digest"
    assert service_on(ledger, store, day).send_digests() == 0, "not on the day they were recorded"
    assert service_on(ledger, store, date(2026, 6, 2)).send_digests() == 1
    assert service_on(ledger, store, date(2026, 6, 3)).send_digests() == 0, "each item once"
    (digest,) = rows(store)
    assert digest.kind == "daily_digest" and digest.address == "unit@sample.example.com"
    assert "SAMPLE 缺少检测报告" in digest.payload["text_zh"] and "accepted" in digest.payload["text_en"]
    assert sorted(digest.payload["kinds"]) == ["milestone_accepted", "milestone_sent_back"]


def test_off_records_nothing_and_immediately_records_the_notice(tmp_path):
    ledger, store, _, events = world(tmp_path)
    unit = Caller(sub=APPLICANT["sub"], role="applicant", org=APPLICANT["org"])
    app = service_on(ledger, store, date(2026, 6, 1))
    app.set_channels(unit, {"email": "unit@sample.example.com"})
    (shortlisted,) = [integration_event(e, None) for e in events if type(e).__name__ == "Shortlisted"]
    app.set_preferences(unit, {"shortlisted": "off"})
    with store.session() as session:
        assert app.record_event(session, shortlisted) == 0
    app.set_preferences(unit, {"shortlisted": "immediately"})
    with store.session() as session:
        assert app.record_event(session, shortlisted) == 1
    assert [r.kind for r in rows(store)] == ["shortlisted"]


def test_an_overdue_milestone_reaches_the_unit_and_an_objection_the_ministry(tmp_path):
    from tests.unit.test_case_transitions import DURING_NOTICE, SP_PROVINCE

    ledger, store, case, _ = world(tmp_path)
    noticed = drive(SP_PROVINCE, State.NOTICE_OPEN)
    app = service_on(ledger, store, date(2027, 1, 18))
    app.set_channels(Caller(sub=APPLICANT["sub"], role="applicant", org=APPLICANT["org"]),
                     {"email": "unit@sample.example.com"})
    app.set_channels(Caller(sub="u-miit", role="ministry", org="MIIT"),
                     {"email": "ministry@sample.example.com", "webhook_url": "https://sample.example.com/hook",
                      "webhook_secret": "SAMPLE-secret-0123456789"})
    case.mark_milestone_overdue(actor=MINISTRY, milestone_id="m2", due_on=date(2027, 1, 15))
    noticed.raise_objection(actor={"sub": "u-competitor", "role": "applicant", "org": "91440300MA5G000000"},
                            objection_id="obj-1", reasons="SAMPLE 知识产权存在争议", today=DURING_NOTICE)
    events = [*case.pending_events, *noticed.pending_events]
    ledger.save(case, noticed)
    for event in events:
        assert store.apply_once(integration_event(event, None), lambda s, e: rm.project(s, e)
                                and app.record_event(s, e))
    found = {(r.kind, r.recipient, r.channel): r for r in rows(store)}
    overdue = found[("milestone_overdue", f"applicant:{APPLICANT['org']}", "email")]
    assert "SAMPLE pilot line" in overdue.payload["text_zh"] and "2027-01-15" in overdue.payload["text_en"]
    objection = found[("objection_raised", "ministry:MIIT", "email")]
    assert "SAMPLE 知识产权存在争议" in objection.payload["text_zh"]
    hook = found[("objection_raised", "ministry:MIIT", "webhook")]
    assert hook.address == "ministry:MIIT" and "SAMPLE-secret" not in str(hook.payload), "no secret in the outbox"


def test_an_authority_with_cases_waiting_is_reminded_of_its_level_s_deadline(tmp_path):
    from shared.domain.call_rules import SHANGHAI, deadline_for

    ledger = CaseLedger("memory://")
    waiting = drive(OC_PROVINCE, State.SUBMITTED)
    definition = {**sample_382(waiting.call_id, date(2026, 3, 2), province_days=20), "version": 1}
    call = Call.define(actor=MINISTRY, definition=definition)
    events = list(waiting.pending_events)
    ledger.save(call, waiting)
    store = ReadModelStore(f"sqlite:///{tmp_path}/notifications.db", rm.metadata)
    rm.create_kept(store.engine)
    for event in events:
        store.apply_once(integration_event(event, None), rm.project)
    due = deadline_for(definition, "province", "420000").astimezone(SHANGHAI).date()
    day = remind_on(due, 3, WorkingCalendar(ledger.recorded_arrangement))
    app = service_on(ledger, store, day)
    app.set_channels(Caller(sub="u-hubei", role="province", org="420000"), {"email": "province@sample.example.com"})
    assert app.remind() == 1
    (reminder,) = rows(store)
    assert reminder.kind == "reminder_deadline" and reminder.recipient == "province:420000"
    assert due.isoformat() in reminder.payload["subject"] and "1 application(s)" in reminder.payload["text_en"]
    # the call's deadline falls on a Sunday (2026-03-22): 3 working days before is Wednesday, 2 are left
    left = working_days_between(day, due, WorkingCalendar(ledger.recorded_arrangement))
    assert f"{left} working day(s) left" in reminder.payload["text_en"] and left == 2


def test_a_unit_s_notices_go_to_the_contacts_its_application_gives(tmp_path):
    from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
    from tests.unit.test_case_transitions import SP_PROVINCE, return_at, submit, verify

    ledger = CaseLedger("memory://")
    case = submit(SP_PROVINCE, application=SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    verify("province").run(case)
    return_at("province").run(case)
    events = list(case.pending_events)
    ledger.save(case)
    store = ReadModelStore(f"sqlite:///{tmp_path}/notifications.db", rm.metadata)
    rm.create_kept(store.engine)
    app = service_on(ledger, store, date(2026, 6, 1))
    for event in events:
        assert store.apply_once(integration_event(event, None), lambda s, e: rm.project(s, e)
                                and app.record_event(s, e))
    returned = sorted((r.address, r.recipient) for r in rows(store) if r.kind == "returned_for_correction")
    assert returned == [("contact1@sample.example.com", f"applicant:{APPLICANT['org']}"),
                        ("contact2@sample.example.com", f"applicant:{APPLICANT['org']}")]
    mine = app.mine(Caller(sub=APPLICANT["sub"], role="applicant", org=APPLICANT["org"]))
    assert sorted(row["address"] for row in mine) == ["c***@sample.example.com", "c***@sample.example.com"]


def test_a_call_s_own_reminder_days_replace_the_platform_s(tmp_path):
    ledger, store, case, _ = world(tmp_path)
    call = ledger.get_call(case.call_id)
    call.amend(actor=MINISTRY, changes={"reminder_days": [10]},
               definition={**call.current, "version": call.current["version"] + 1, "reminder_days": [10]})
    ledger.save(call)
    service_on(ledger, store, date(2026, 1, 5)).set_channels(
        Caller(sub=APPLICANT["sub"], role="applicant", org=APPLICANT["org"]), {"email": "unit@sample.example.com"})
    calendar = WorkingCalendar(ledger.recorded_arrangement)
    ten_before, seven_before = remind_on(DUE_2026, 10, calendar), remind_on(DUE_2026, 7, calendar)

    service_on(ledger, store, ten_before).remind()
    service_on(ledger, store, seven_before).remind()  # the platform's 7 is not this call's
    reminders = [r for r in rows(store) if r.kind == "reminder_milestone"]
    assert len(reminders) == 1 and "10 working day(s) left" in reminders[0].payload["text_en"]

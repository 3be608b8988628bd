"""Who is told what, when (issue #20): the notices each ledger event calls for, reminders before
deadlines on China's working-day calendar, and what a person may turn off.

Events are real: built by the domain's own aggregates (the Case driven through legal commands as in
test_case_transitions, a Panel) and turned into the integration event every subscriber receives.
The 2027 arrangement is SAMPLE test data (shared/domain/calendar_samples.py), not the real one.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from shared.domain.calendar import PACKAGE, Arrangement, WorkingCalendar
from shared.domain.calendar_samples import SAMPLE_ARRANGEMENT_2027
from shared.domain.calendar_year import ArrangementSchema, to_record
from shared.domain.case import Case, State
from shared.domain.errors import DomainRuleViolation
from shared.domain.notifications import (
    MANDATORY,
    MINISTRY,
    CaseFacts,
    Deadline,
    Delivery,
    Kind,
    Preferences,
    Recipient,
    calendar_warnings,
    level_deadlines,
    milestone_deadlines,
    notices_for,
    reminders_due,
)
from shared.domain.notifications.templates import TEMPLATES
from shared.domain.panel import Panel
from shared.domain.validation import load
from shared.infra.messaging.contracts import integration_event
from tests.samples import sample_382
from tests.unit.parties import APPLICANT, CITY, EVALUATOR, EXPERT, PROVINCE
from tests.unit.parties import MINISTRY as MINISTRY_ACTOR
from tests.unit.test_case_transitions import (
    CITY_RECOMMEND,
    COMMISSION,
    DECLINE_SELECTION,
    DECLINE_SHORTLIST,
    DISMISS_OBJECTION,
    DURING_NOTICE,
    EXPERT_REVIEW,
    OC_CITY,
    OC_PROVINCE,
    OVERDUE_M2,
    PUBLISH,
    RAISE_OBJECTION,
    RESUBMIT,
    SELECT,
    SHORTLIST,
    SP_CITY,
    SP_PROVINCE,
    UPHOLD_OBJECTION,
    Step,
    drive,
    reject_at,
    return_at,
    submit,
)

CALL_TITLE = "高性能生物反应器创新任务揭榜挂帅"
UNIT = Recipient(role="applicant", org=APPLICANT["org"])
WUHAN = Recipient(role="city", org="420100", region="420100")
HUBEI = Recipient(role="province", org="420000", region="420000")


def envelope(event) -> dict:
    """The event as the relay publishes it, through JSON as RabbitMQ carries it."""
    return json.loads(json.dumps(integration_event(event, None)))


def facts(case: Case) -> CaseFacts:
    return CaseFacts.of(case, call_title=CALL_TITLE)


def told(case: Case, step: Step) -> list:
    """The notices the event of `step`, run on `case`, calls for."""
    case.collect_events()
    step.run(case)
    [event] = case.collect_events()
    return notices_for(envelope(event), facts(case))


def only(notices: list, kind: str, recipient: Recipient):
    assert [(n.kind, n.recipient) for n in notices] == [(kind, recipient)]
    return notices[0]


def both(notice, *words: str) -> None:
    """Each of `words` is in the Chinese and in the English part of the message."""
    for word in words:
        assert word in notice.message.body_zh, (word, notice.message.body_zh)
        assert word in notice.message.body_en, (word, notice.message.body_en)


# -- the authority, when a case reaches its inbox ----------------------------------------------------


def test_a_submission_reaches_the_city_where_the_chain_has_a_city_level_else_the_province():
    on_city_chain = submit(OC_CITY)
    [event] = on_city_chain.collect_events()
    notice = only(notices_for(envelope(event), facts(on_city_chain)), Kind.CASE_IN_INBOX, WUHAN)
    assert notice.recipient.region == "420100" and notice.can_be_turned_off
    both(notice, on_city_chain.title, CALL_TITLE, on_city_chain.applicant["name"])
    assert "city level" in notice.message.body_en and "市级主管部门" in notice.message.body_zh
    assert notice.message.body.index("申请") < notice.message.body.index(
        "Application")

    province_only = submit(OC_PROVINCE)
    [event] = province_only.collect_events()
    only(notices_for(envelope(event), facts(province_only)), Kind.CASE_IN_INBOX, HUBEI)


def test_the_province_is_told_when_the_city_recommends():
    case = drive(OC_CITY, State.SUBMITTED)
    Step("verification", "v", lambda c: c.record_verification(actor=CITY, level="city", checks={})).run(case)
    notice = only(told(case, CITY_RECOMMEND), Kind.CASE_IN_INBOX, HUBEI)
    assert "省级主管部门" in notice.message.body_zh and "province level" in notice.message.body_en


def test_a_resubmission_goes_back_to_the_first_level_of_the_chain():
    case = drive(SP_CITY, State.RETURNED)
    only(told(case, RESUBMIT), Kind.CASE_IN_INBOX, WUHAN)


def test_the_province_is_not_told_of_its_own_withdrawn_endorsement():
    case = drive(SP_PROVINCE, State.PROVINCE_ENDORSED)
    withdraw = Step("verification", "w", lambda c: c.withdraw_endorsement(actor=PROVINCE, reason="材料需核实"))
    assert told(case, withdraw) == []
    assert case.state == State.SUBMITTED  # back in the province's inbox, by the province's own act


# -- the unit ------------------------------------------------------------------------------------------


def test_the_unit_is_told_of_a_return_for_correction_with_the_reasons():
    case = drive(SP_CITY, State.SUBMITTED)
    Step("verification", "v", lambda c: c.record_verification(actor=CITY, level="city", checks={})).run(case)
    notice = only(told(case, return_at("city")), Kind.RETURNED_FOR_CORRECTION, UNIT)
    both(notice, "营业执照复印件缺失", case.title, CALL_TITLE, str(case.id))
    assert not notice.can_be_turned_off
    assert notice.message.subject.startswith("申请被退回补正") and "returned for correction" in notice.message.subject


def test_the_unit_is_told_of_a_rejection_with_the_reason():
    case = drive(SP_PROVINCE, State.SUBMITTED)
    Step("verification", "v", lambda c: c.record_verification(actor=PROVINCE, level="province", checks={})).run(case)
    notice = only(told(case, reject_at("province")), Kind.REJECTED, UNIT)
    both(notice, "不符合申报条件")
    assert not notice.can_be_turned_off


def test_the_unit_is_told_it_is_shortlisted():
    case = drive(OC_PROVINCE, State.PROVINCE_ENDORSED)
    EXPERT_REVIEW.run(case)
    notice = only(told(case, SHORTLIST), Kind.SHORTLISTED, UNIT)
    both(notice, case.title)
    assert notice.can_be_turned_off


def test_the_unit_is_told_it_is_not_shortlisted_with_the_reason():
    case = drive(OC_PROVINCE, State.PROVINCE_ENDORSED)
    EXPERT_REVIEW.run(case)
    notice = only(told(case, DECLINE_SHORTLIST), Kind.NOT_SHORTLISTED, UNIT)
    both(notice, "名额已满")
    assert not notice.can_be_turned_off


def test_the_unit_is_told_its_milestone_report_is_accepted():
    case = drive(OC_PROVINCE, State.IN_IMPLEMENTATION)  # m1 reported
    accept = Step("review", "a", lambda c: c.accept_milestone_report(actor=MINISTRY_ACTOR, milestone_id="m1",
                                                                     note="符合任务书"))
    notice = only(told(case, accept), Kind.MILESTONE_ACCEPTED, UNIT)
    both(notice, "prototype reactor", "2026-06-30", "符合任务书")


def test_the_unit_is_told_its_milestone_report_is_sent_back_with_the_reasons():
    case = drive(OC_PROVINCE, State.IN_IMPLEMENTATION)
    send_back = Step("review", "r", lambda c: c.return_milestone_report(
        actor=MINISTRY_ACTOR, milestone_id="m1", reasons=["缺少测试报告"]))
    notice = only(told(case, send_back), Kind.MILESTONE_SENT_BACK, UNIT)
    both(notice, "prototype reactor", "2026-06-30", "缺少测试报告")
    assert not notice.can_be_turned_off


def test_the_unit_is_told_a_milestone_is_overdue():
    case = drive(OC_PROVINCE, State.IN_IMPLEMENTATION)
    notice = only(told(case, OVERDUE_M2), Kind.MILESTONE_OVERDUE, UNIT)
    both(notice, "pilot line", "2026-12-31")
    assert not notice.can_be_turned_off


def test_the_unit_and_the_evaluator_are_told_of_the_commission():
    case = drive(OC_PROVINCE, State.IN_IMPLEMENTATION, completed=True)
    notices = told(case, COMMISSION)
    evaluator = Recipient(role="evaluator", org=EVALUATOR["org"])
    assert [(n.kind, n.recipient) for n in notices] == [
        (Kind.EVALUATOR_COMMISSIONED, UNIT), (Kind.EVALUATOR_COMMISSIONED_TO_YOU, evaluator)]
    both(notices[0], EVALUATOR["org"], case.title)
    both(notices[1], case.title, CALL_TITLE)
    assert notices[0].dedupe_key != notices[1].dedupe_key


def test_the_unit_is_told_it_is_selected():
    case = drive(SP_PROVINCE, State.PROVINCE_ENDORSED)
    EXPERT_REVIEW.run(case)
    only(told(case, SELECT), Kind.SELECTED, UNIT)


def test_the_unit_is_told_it_is_not_selected_with_the_reason():
    case = drive(SP_PROVINCE, State.PROVINCE_ENDORSED)
    EXPERT_REVIEW.run(case)
    notice = only(told(case, DECLINE_SELECTION), Kind.NOT_SELECTED, UNIT)
    both(notice, "未达指标")
    assert not notice.can_be_turned_off


def test_the_unit_is_told_it_is_published():
    case = drive(SP_PROVINCE, State.NOTICE_OPEN)
    notice = only(told(case, PUBLISH), Kind.PUBLISHED, UNIT)
    both(notice, "list-2025")


def test_the_ministry_is_told_of_an_objection_and_the_unit_of_its_delisting():
    case = drive(SP_PROVINCE, State.NOTICE_OPEN)
    objector = {"sub": "u-competitor", "role": "applicant", "org": "91440300MA5G000000"}  # SAMPLE
    raise_objection = Step("publication", "object", lambda c: c.raise_objection(
        actor=objector, objection_id="obj-1", reasons="知识产权存在争议", today=DURING_NOTICE))
    notice = only(told(case, raise_objection), Kind.OBJECTION_RAISED, MINISTRY)
    both(notice, "obj-1", "知识产权存在争议")
    delisted = only(told(case, UPHOLD_OBJECTION), Kind.DELISTED, UNIT)
    both(delisted, "异议成立")
    assert case.state == State.DELISTED and not delisted.can_be_turned_off


def test_the_ministry_is_not_told_of_an_objection_it_recorded_itself():
    case = drive(SP_PROVINCE, State.NOTICE_OPEN)
    assert told(case, RAISE_OBJECTION) == []


def test_a_dismissed_objection_tells_nobody():
    case = drive(SP_PROVINCE, State.NOTICE_OPEN, open_objection=True)
    assert told(case, DISMISS_OBJECTION) == []


def test_the_expert_is_told_when_assigned():
    case = drive(SP_PROVINCE, State.PROVINCE_ENDORSED)
    panel = Panel.form(actor=MINISTRY_ACTOR, call_id=case.call_id, direction=case.direction,
                       criteria=[{"id": "innovation", "max_score": 100}],
                       experts=[{"id": EXPERT["org"], "unit": "12100000400000999X"}])
    panel.collect_events()
    assert panel.assign(actor=MINISTRY_ACTOR, case_id=str(case.id), expert=EXPERT["org"], units={}) is None
    [assigned] = panel.collect_events()
    message = envelope(assigned)
    assert message["stream"] == "panel" and "case_id" not in message
    notice = only(notices_for(message, facts(case)), Kind.EXPERT_ASSIGNED, Recipient(role="expert", org=EXPERT["org"]))
    assert notice.case_id == str(case.id)
    both(notice, case.title, CALL_TITLE)


def test_events_that_concern_nobody_call_for_no_notice():
    case = drive(SP_PROVINCE, State.PROVINCE_ENDORSED)
    assert told(case, EXPERT_REVIEW) == []
    assert told(case, Step("documents", "attach", lambda c: c.attach_evidence(
        actor=APPLICANT, sha256="d" * 64, size=1, content_type="application/pdf", filename="a.pdf", step="x"))) == []


# -- the dedupe key ------------------------------------------------------------------------------------


def test_the_dedupe_key_is_the_same_for_a_redelivered_event_and_differs_between_events():
    case = drive(SP_CITY, State.RETURNED)
    case.collect_events()
    RESUBMIT.run(case)
    [resubmitted] = case.collect_events()
    first = notices_for(envelope(resubmitted), facts(case))
    again = notices_for(envelope(resubmitted), facts(case))
    assert [n.dedupe_key for n in first] == [n.dedupe_key for n in again]
    assert str(case.id) in first[0].dedupe_key and Kind.CASE_IN_INBOX in first[0].dedupe_key

    # The second return of the same case to the same unit is another event: another notice.
    first_return = told(case, return_at("city"))
    RESUBMIT.run(case)
    second_return = told(case, return_at("city"))
    assert first_return[0].dedupe_key != second_return[0].dedupe_key
    assert first_return[0].recipient == second_return[0].recipient == UNIT


# -- templates -----------------------------------------------------------------------------------------

ALL_FACTS = {"title": "SAMPLE 产品", "call": "SAMPLE 征集", "case_id": "c-1", "applicant": "SAMPLE 单位",
             "reasons": "1. 理由甲", "reason": "理由乙", "milestone": "样机", "due_on": "2026-06-30", "note": "",
             "level": "province", "evaluator": "E-1", "expert": "X-1", "objection": "obj-9", "list_id": "L-1",
             "resolution": "异议成立", "deadline": "2026-02-25", "days_left": 3, "cases": 2, "year": 2027,
             "deadlines": 2, "keys": "case:c-1:milestone:m1"}
PLACEHOLDER = re.compile(r"{(\w+)}")


@pytest.mark.parametrize("kind", Kind.ALL)
def test_every_kind_has_chinese_then_english_words_naming_its_facts(kind):
    from shared.domain.notifications.templates import render

    message = render(kind, ALL_FACTS)
    assert message.subject_zh and message.subject_en and message.body_zh and message.body_en
    assert message.body.startswith(message.body_zh) and message.body.endswith(message.body_en)
    body_zh, body_en = TEMPLATES[kind][1], TEMPLATES[kind][3]
    # Both languages name the same facts (the level in Chinese words), and every fact is filled in.
    named_zh = {"level" if name == "level_zh" else name for name in PLACEHOLDER.findall(body_zh)}
    assert named_zh == set(PLACEHOLDER.findall(body_en))
    assert "{" not in message.body and "{" not in message.subject
    if kind != Kind.CALENDAR_YEAR_UNKNOWN:  # every notice but the ministry's calendar warning is of a call
        assert "SAMPLE 征集" in message.body_zh and "SAMPLE 征集" in message.body_en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message.subject_zh)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in TEMPLATES[kind][3])  # the English part is English


# -- reminders -----------------------------------------------------------------------------------------


def deadline(due_on: date, key: str = "call:SAMPLE:province:420000") -> Deadline:
    return Deadline(key=key, kind=Kind.REMINDER_DEADLINE, due_on=due_on, recipient=HUBEI,
                    facts={"call": "SAMPLE 征集", "level": "province", "cases": 2})


def due(today: date, *deadlines: Deadline, intervals=(7, 3, 1), calendar=None):
    return reminders_due(today, deadlines or [deadline(date(2025, 6, 16))], intervals, calendar)


def test_reminders_come_seven_three_and_one_working_days_before_across_a_weekend():
    # Due Monday 16 June 2025: 1 working day before is Friday the 13th, 3 is Wednesday the 11th,
    # 7 is Thursday the 5th (the weekends of the 7th/8th and 14th/15th not counted).
    assert due(date(2025, 6, 4)).notices == []
    seven = due(date(2025, 6, 5)).notices
    assert [n.facts["days_left"] for n in seven] == [7]
    assert [n.facts["days_left"] for n in due(date(2025, 6, 11)).notices] == [3]
    [friday] = due(date(2025, 6, 13)).notices
    [saturday] = due(date(2025, 6, 14)).notices
    assert friday.facts["days_left"] == saturday.facts["days_left"] == 1
    assert friday.dedupe_key == saturday.dedupe_key != seven[0].dedupe_key  # the same reminder, recorded once
    assert friday.recipient == HUBEI and friday.calendar == {"2025": {"source": "holidays", "package": PACKAGE}}
    assert "2025-06-16" in friday.message.body_zh and "2025-06-16" in friday.message.body_en
    assert due(date(2025, 6, 17)).notices == []


def test_a_missed_run_sends_the_most_urgent_reminder_once_not_every_one_it_missed():
    [late] = due(date(2025, 6, 12)).notices  # 7 and 3 both came; the run on the 12th sends the 3
    assert late.dedupe_key.endswith("|3|province:420000") and late.facts["days_left"] == 2


def test_reminders_before_a_deadline_after_the_2026_spring_festival():
    # 2026: 15-23 February off; Saturday 14 February a working day. Due Wednesday 25 February:
    # 1 working day before is Tuesday the 24th; 3 are the 24th, Saturday the 14th and Friday the 13th.
    spring = deadline(date(2026, 2, 25))
    assert [n.facts["days_left"] for n in due(date(2026, 2, 13), spring).notices] == [3]
    assert due(date(2026, 2, 12), spring, intervals=(3,)).notices == []
    [holiday] = due(date(2026, 2, 20), spring).notices  # during the festival: still the 3-day one
    assert holiday.facts["days_left"] == 2  # the 24th and the 25th are left
    assert [n.facts["days_left"] for n in due(date(2026, 2, 24), spring).notices] == [1]


def test_a_year_no_calendar_knows_gives_no_reminder_but_the_problem():
    into_2027 = deadline(date(2027, 1, 8), key="case:SAMPLE:milestone:m9")
    reminders = due(date(2027, 1, 5), into_2027, deadline(date(2025, 6, 16)))
    assert reminders.notices == []  # the 2025 one has passed; the 2027 one is not guessed
    [problem] = reminders.problems
    assert problem.year == 2027 and problem.deadline_key == "case:SAMPLE:milestone:m9" and "2027" in problem.message


def test_the_ministry_is_warned_once_a_year_as_soon_as_a_deadline_needs_a_year_no_calendar_knows():
    # Months ahead, well before any reminder's day: the year is needed, so the warning comes now.
    needing = [deadline(date(2027, 3, 1), key="case:A:milestone:m1"), deadline(date(2027, 6, 30), key="case:B:m2")]
    reminders = due(date(2026, 6, 1), *needing)
    assert reminders.notices == [] and [p.year for p in reminders.problems] == [2027, 2027]
    [warning] = calendar_warnings(reminders.problems)
    assert (warning.kind, warning.recipient, warning.case_id) == (Kind.CALENDAR_YEAR_UNKNOWN, MINISTRY, None)
    assert not warning.can_be_turned_off
    both(warning, "2027", "case:A:milestone:m1", "case:B:m2")
    [again] = calendar_warnings(due(date(2026, 6, 2), needing[0]).problems)
    assert again.dedupe_key == warning.dedupe_key  # once a year, however many runs find it


def test_a_year_the_ministry_recorded_gives_reminders_that_record_their_calendar():
    sample = Arrangement.from_record(2027, 1, to_record(load(ArrangementSchema(), SAMPLE_ARRANGEMENT_2027)))
    calendar = WorkingCalendar({2027: sample}.get)
    # SAMPLE 2027: 1-4 January off. Due Friday 8 January: 3 working days before is Tuesday the 5th.
    [reminder] = due(date(2027, 1, 5), deadline(date(2027, 1, 8)), calendar=calendar).notices
    assert reminder.facts["days_left"] == 3
    assert reminder.calendar["2027"] == {"source": "recorded", "version": 1,
                                         "notice_number": SAMPLE_ARRANGEMENT_2027["notice_number"]}
    assert "2026" in reminder.calendar  # 7 working days before reaches back into 2026


def test_intervals_are_set_per_call_and_must_be_whole_working_days():
    assert [n.facts["days_left"] for n in due(date(2025, 6, 9), intervals=(5,)).notices] == [5]
    assert due(date(2025, 6, 9), intervals=(2,)).notices == []
    for wrong in ((), (0,), (-1,), (1.5,)):
        with pytest.raises(DomainRuleViolation) as refused:
            due(date(2025, 6, 9), intervals=wrong)
        assert refused.value.field == "intervals"


def test_each_authority_with_cases_waiting_has_its_level_s_deadline():
    call = sample_382("SAMPLE-382", date(2025, 6, 2), city_days=10, province_days=20)
    waiting_city = submit(SP_CITY, call_id="SAMPLE-382")
    at_province = drive(SP_CITY, State.CITY_RECOMMENDED)
    at_province.call_id = "SAMPLE-382"
    done = drive(SP_CITY, State.PROVINCE_ENDORSED)
    done.call_id = "SAMPLE-382"
    found = level_deadlines(call, [facts(waiting_city), facts(at_province), facts(done)])
    assert [(d.recipient, d.due_on, d.facts["cases"]) for d in found] == [
        (WUHAN, date(2025, 6, 12), 1), (HUBEI, date(2025, 6, 22), 1)]
    [reminder] = reminders_due(date(2025, 6, 11), found, (1,)).notices
    assert reminder.recipient == WUHAN and "市级主管部门" in reminder.message.body_zh


def test_a_unit_is_reminded_of_milestones_it_has_still_to_report():
    case = drive(OC_PROVINCE, State.IN_IMPLEMENTATION)  # m1 reported, m2 pending
    [m2] = milestone_deadlines(facts(case))
    assert (m2.recipient, m2.due_on, m2.case_id) == (UNIT, date(2026, 12, 31), str(case.id))
    [reminder] = reminders_due(date(2026, 12, 30), [m2]).notices
    assert reminder.kind == Kind.REMINDER_MILESTONE
    both(reminder, "pilot line", "2026-12-31", case.title)


# -- preferences ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(MANDATORY))
def test_refusals_and_overdue_notices_cannot_be_turned_off(kind):
    with pytest.raises(DomainRuleViolation) as refused:
        Preferences().choose(kind, Delivery.OFF)
    assert refused.value.fields == {f"preferences.{kind}": [refused.value.rule]} and "cannot be turned off" in (
        refused.value.rule)
    assert Preferences().choose(kind, Delivery.DAILY_DIGEST).delivery_of(kind) == Delivery.DAILY_DIGEST


def test_other_kinds_may_be_turned_off_and_unknown_choices_are_refused():
    chosen = Preferences.of({Kind.REMINDER_DEADLINE: Delivery.OFF, Kind.SHORTLISTED: Delivery.DAILY_DIGEST})
    assert chosen.delivery_of(Kind.REMINDER_DEADLINE) == Delivery.OFF
    assert chosen.delivery_of(Kind.SHORTLISTED) == Delivery.DAILY_DIGEST
    assert chosen.delivery_of(Kind.PUBLISHED) == Delivery.IMMEDIATELY
    for kind, delivery in (("no_such_kind", Delivery.OFF), (Kind.PUBLISHED, "weekly")):
        with pytest.raises(DomainRuleViolation) as refused:
            Preferences().choose(kind, delivery)
        assert refused.value.field == f"preferences.{kind}"

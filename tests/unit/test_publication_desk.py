"""The publication desk on an embedded SQLite ledger: whole lists put up for notice, objections by
anyone identified with evidence they deposited, the notice closed by the timer with an injected
day, publication, the shortlist, the product library, and the read model that serves the public
held against the list rebuilt from the ledger alone.

No broker: the read model is fed from the ledger's notification log as the relay would feed it.
Cases are filed, endorsed and selected straight on the aggregate by the ledgers of the services
that own those steps. Units, products and calls are SAMPLE data.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.cli.demo import sample_call
from services.publication import readmodels as rm
from services.publication.application import Publication
from services.publication.library import ProductQuery, PublicLibrary
from shared.domain import call_rules
from shared.domain.access import SYSTEM as SYSTEM_ROLE
from shared.domain.access import Caller
from shared.domain.calendar import PACKAGE, last_official_year
from shared.domain.calendar_samples import SAMPLE_AMENDMENT_2027, SAMPLE_ARRANGEMENT_2027
from shared.domain.calendar_year import CalendarYear, to_record
from shared.domain.call import Call
from shared.domain.case import Case, Level, State
from shared.domain.dossier import Dossier
from shared.domain.errors import DomainRuleViolation, EventNotOwned, Forbidden, NotFound, ValidationFailed
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.domain.publication_list import ListKind, PublicList, list_document
from shared.domain.registration_area import check_registration_area
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.contracts import integration_event
from shared.infra.messaging.topology import SUBSCRIPTIONS
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import credit_code, sample_382, signature_form

OPENED = date(2026, 2, 11)  # a Wednesday before the 2026 Spring Festival
LAST_DAY = date(2026, 3, 2)  # the tenth working day (tests/unit/test_calendar.py)
MINISTRY = Caller(sub="u-miit", role="ministry", org="MIIT")
HUBEI = Caller(sub="u-hubei", role="province", org="420000")
TIMER = Caller(sub="caseplatform-timers", role=SYSTEM_ROLE, org="caseplatform", name="SAMPLE timers")
AUDITOR = Caller(sub="u-audit", role="auditor", org="AUDIT")
SYSTEM = {"sub": "u-intake", "role": "ministry", "org": "MIIT"}
PACKAGE_BASIS = {"source": "holidays", "package": PACKAGE}
BOUND = {key.split(".")[0] for key in SUBSCRIPTIONS["publication"]}  # what publication's queue receives


def applicant(n: int) -> Caller:
    return Caller(sub=f"u-{n}", role="applicant", org=credit_code(n, "420100"),
                  region={"province": "420000", "city": "420100"})


class Desk:
    """The ledgers of the services, one publication read model, and a clock that moves by hand."""

    def __init__(self, tmp_path):
        url = f"sqlite:///{tmp_path}/ledger.db"
        self.ledgers = {owner: CaseLedger(url, owner=owner)
                        for owner in ("intake", "verification", "review", "documents", "publication")}
        self.reader = CaseLedger(url)
        self.store = ReadModelStore(f"sqlite:///{tmp_path}/publication.db", rm.metadata)
        self.position = 0
        self.today = OPENED

    @property
    def app(self) -> Publication:
        return Publication(self.ledgers["publication"], self.store, self.today)

    @property
    def library(self) -> PublicLibrary:
        return PublicLibrary(self.store)

    def sync(self) -> None:
        for notification_id, event in self.reader.notifications(self.position, 1000):
            body = integration_event(event, notification_id)
            self.position = notification_id
            if body["stream"] not in BOUND:
                continue
            self.store.apply_once(body, rm.project)

    def define(self, call: dict) -> dict:
        stored = call_rules.to_json(call_rules.load_call(call))
        self.ledgers["intake"].save_together(Call.define(actor=SYSTEM, definition=stored))
        return stored

    def file(self, call: dict, n: int, application: dict | None = None, direction: str = "生物基材料") -> Case:
        unit = applicant(n)
        program = call["program"]
        application = application or signature_form(unit.org, f"SAMPLE 产品 {n}")
        case = Case.submit(
            actor=unit.as_actor(), call_id=call["call_id"], call_version=1, program=program, direction=direction,
            applicant={"credit_code": unit.org, "name": f"SAMPLE 单位 {n}"}, province="420000", city=None,
            chain=[Level.PROVINCE], public_notice_required=call["public_notice"]["required"],
            title=f"SAMPLE {n}", application=application,
            registration_check=check_registration_area(unit.org, "420000", None))
        self.ledgers["intake"].save_case(case)
        case.endorse_by_province(actor=HUBEI.as_actor(), reason="SAMPLE", rank=1)
        self.ledgers["verification"].save_case(case)
        return case

    def select(self, case: Case) -> Case:
        case = self.ledgers["review"].get_case(case.id)
        case.select(actor=MINISTRY.as_actor())
        self.ledgers["review"].save_case(case)
        return case

    def deposit(self, unit: Caller, digest: str) -> None:
        dossier = Dossier.open(actor=unit.as_actor(), credit_code=unit.org)
        dossier.deposit(actor=unit.as_actor(), sha256=digest, size=10, content_type="application/pdf",
                        filename="SAMPLE.pdf")
        self.ledgers["documents"].save_together(dossier)

    def close(self) -> None:
        for ledger in (*self.ledgers.values(), self.reader):
            ledger.close()
        self.store.dispose()


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path)
    yield desk
    desk.close()


@pytest.fixture
def products(desk):
    """A SAMPLE copy of 382号 (10 working days of notice) with three selected products."""
    call = desk.define(sample_382("sample-382-desk", OPENED - timedelta(days=30)))
    cases = [desk.select(desk.file(call, n)) for n in (1, 2, 3)]
    desk.sync()
    return call, [str(c.id) for c in cases]


def list_of(call: dict) -> str:
    return f"{call['call_id']}:signature-products"


def served_equals_rebuilt(desk: Desk, list_id: str) -> dict:
    """The document the public gets (read model) against the one rebuilt from the ledger alone."""
    desk.sync()
    served = desk.library.document(list_id)
    public_list = desk.reader.find_public_list(list_id)
    rebuilt = list_document(public_list, {c: desk.reader.get_case(c) for c in public_list.entries})
    assert served == rebuilt
    return served


# -- putting a list up -------------------------------------------------------------------------


def test_the_ministry_sees_the_candidates_and_the_period_a_notice_would_have(desk, products):
    call, ids = products
    preview = desk.app.candidates(MINISTRY, list_of(call))
    assert sorted(c["case_id"] for c in preview["candidates"]) == sorted(ids)
    assert preview["notice_if_opened_today"] == {"starts_on": "2026-02-11", "ends_on": "2026-03-02",
                                                 "working_days": 10, "calendar": {"2026": PACKAGE_BASIS}}
    with pytest.raises(Forbidden):
        desk.app.candidates(HUBEI, list_of(call))


def test_a_notice_puts_up_every_selected_case_of_the_call_together(desk, products):
    call, ids = products
    document = desk.app.open_notice(MINISTRY, list_of(call), ids)
    assert document["status"] == "notice_open"
    assert document["notice"] == {"starts_on": "2026-02-11", "ends_on": "2026-03-02", "working_days": 10,
                                  "closed_on": None}
    for case_id in ids:
        case = desk.reader.get_case(case_id)
        assert case.state == State.NOTICE_OPEN and case.notice_ends_on == LAST_DAY
    assert served_equals_rebuilt(desk, list_of(call))["entries"] == document["entries"]
    assert [n["list_id"] for n in desk.library.notices()] == [list_of(call)]


def test_a_list_that_leaves_out_a_selected_case_is_refused_and_nothing_is_written(desk, products):
    call, ids = products
    before = desk.reader.max_notification_id()
    with pytest.raises(DomainRuleViolation) as refused:
        desk.app.open_notice(MINISTRY, list_of(call), ids[:2])
    assert refused.value.field == "case_ids" and ids[2] in refused.value.rule
    assert desk.reader.max_notification_id() == before
    assert desk.reader.find_public_list(list_of(call)) is None


def test_a_case_not_selected_or_of_another_call_cannot_be_named(desk, products):
    call, ids = products
    endorsed = desk.file(call, 9)  # endorsed, not selected
    other = desk.define(sample_382("sample-382-other", OPENED - timedelta(days=30)))
    foreign = desk.select(desk.file(other, 10))
    with pytest.raises(ValidationFailed) as refused:
        desk.app.open_notice(MINISTRY, list_of(call), [*ids, str(endorsed.id), str(foreign.id),
                                                       "00000000-0000-0000-0000-000000000000"])
    assert set(refused.value.fields) == {"case_ids[3]", "case_ids[4]", "case_ids[5]"}
    assert "province_endorsed" in refused.value.fields["case_ids[3]"][0]
    assert "sample-382-other" in refused.value.fields["case_ids[4]"][0]


def test_a_call_without_a_notice_publishes_its_list_straight_away_and_cannot_notice_it(desk):
    call = desk.define({**sample_382("sample-382-nonotice", OPENED - timedelta(days=30)),
                        "public_notice": {"required": False, "working_days": None, "note": "SAMPLE: no notice"}})
    case = desk.select(desk.file(call, 1))
    desk.sync()
    with pytest.raises(DomainRuleViolation) as refused:
        desk.app.open_notice(MINISTRY, list_of(call), [str(case.id)])
    assert refused.value.field == "notice"
    with pytest.raises(ValidationFailed):
        desk.app.publish(MINISTRY, list_of(call), None)
    document = desk.app.publish(MINISTRY, list_of(call), [str(case.id)])
    assert document["status"] == "published" and document["notice"] is None
    assert desk.reader.get_case(case.id).state == State.PUBLISHED
    with pytest.raises(DomainRuleViolation) as no_objection:
        desk.app.raise_objection(HUBEI, list_of(call), str(case.id), "SAMPLE", [])
    assert no_objection.value.field == "objection" and "without a public notice" in no_objection.value.rule


def test_a_list_under_notice_cannot_be_published_before_its_end(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    desk.today = LAST_DAY
    with pytest.raises(DomainRuleViolation) as refused:
        desk.app.publish(MINISTRY, list_of(call), None)
    assert refused.value.field == "notice" and "2026-03-02" in refused.value.rule


# -- objections ---------------------------------------------------------------------------------


def test_an_objection_names_only_evidence_its_author_deposited(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    objector = applicant(77)
    deposited, stranger = "d" * 64, "f" * 64
    desk.deposit(objector, deposited)
    with pytest.raises(ValidationFailed) as refused:
        desk.app.raise_objection(objector, list_of(call), ids[0], "SAMPLE 异议", [deposited, stranger])
    assert list(refused.value.fields) == ["evidence[1]"]
    assert desk.reader.get_case(ids[0]).open_objections == []
    raised = desk.app.raise_objection(objector, list_of(call), ids[0], "SAMPLE 异议", [deposited])
    desk.sync()
    (seen,) = desk.app.objections(objector, list_of(call))
    assert seen["objection_id"] == raised["objection_id"] and seen["evidence"] == [deposited]
    assert seen["status"] == "open"


def test_anyone_identified_may_object_and_sees_only_their_own_objections(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    by_province = desk.app.raise_objection(HUBEI, list_of(call), ids[1], "SAMPLE 省厅收到举报", [])
    by_unit = desk.app.raise_objection(applicant(78), list_of(call), ids[1], "SAMPLE 竞争单位异议", [])
    desk.sync()
    assert [o["objection_id"] for o in desk.app.objections(HUBEI, list_of(call))] == [by_province["objection_id"]]
    assert {o["objection_id"] for o in desk.app.objections(MINISTRY, list_of(call))} == {
        by_province["objection_id"], by_unit["objection_id"]}
    assert len(desk.app.objections(AUDITOR, list_of(call))) == 2


def test_objections_are_refused_outside_the_notice_and_against_what_is_not_on_the_list(desk, products):
    call, ids = products
    with pytest.raises(NotFound):  # not put up yet
        desk.app.raise_objection(HUBEI, list_of(call), ids[0], "SAMPLE", [])
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    with pytest.raises(NotFound):
        desk.app.raise_objection(HUBEI, list_of(call), "00000000-0000-0000-0000-000000000000", "SAMPLE", [])
    desk.today = LAST_DAY + timedelta(days=1)
    with pytest.raises(DomainRuleViolation) as late:
        desk.app.raise_objection(HUBEI, list_of(call), ids[0], "SAMPLE", [])
    assert late.value.field == "objection" and "2026-03-02" in late.value.rule


def test_upheld_and_dismissed_objections_with_the_list_before_and_after(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    before = [e["case_id"] for e in served_equals_rebuilt(desk, list_of(call))["entries"]]
    desk.today = date(2026, 2, 25)
    upheld = desk.app.raise_objection(applicant(80), list_of(call), ids[0], "SAMPLE 专利权属争议", [])
    dismissed = desk.app.raise_objection(applicant(81), list_of(call), ids[1], "SAMPLE 产量数据存疑", [])
    with pytest.raises(Forbidden):
        desk.app.resolve_objection(HUBEI, list_of(call), ids[0], upheld["objection_id"], True, "x")

    result = desk.app.resolve_objection(MINISTRY, list_of(call), ids[0], upheld["objection_id"], True,
                                        "SAMPLE 经核实异议成立，撤销该产品")
    assert result["case_state"] == State.DELISTED
    desk.app.resolve_objection(MINISTRY, list_of(call), ids[1], dismissed["objection_id"], False,
                               "SAMPLE 经核实数据属实，异议不成立")
    after = [e["case_id"] for e in served_equals_rebuilt(desk, list_of(call))["entries"]]
    assert before == ids and after == ids[1:]

    history = desk.reader.history(ids[0])
    assert [(e.type, e.payload.get("upheld"), e.payload.get("resolution")) for e in history[-2:]] == [
        ("ObjectionRaised", None, None), ("ObjectionResolved", True, "SAMPLE 经核实异议成立，撤销该产品")]
    statuses = {o["objection_id"]: o["status"] for o in desk.app.objections(MINISTRY, list_of(call))}
    assert statuses == {upheld["objection_id"]: "upheld", dismissed["objection_id"]: "dismissed"}
    with pytest.raises(NotFound):  # off the list: nothing more to object to
        desk.app.raise_objection(HUBEI, list_of(call), ids[0], "SAMPLE", [])


# -- closing and publishing -----------------------------------------------------------------------


def test_the_timer_closes_the_notice_the_day_after_its_last_working_day_once(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    desk.sync()
    desk.today = LAST_DAY
    assert desk.app.close_due_notices(TIMER) == []
    desk.today = LAST_DAY + timedelta(days=1)
    assert desk.app.close_due_notices(TIMER) == [list_of(call)]
    desk.sync()  # a pass before the read model heard of the close finds the ledger's list closed
    assert desk.app.close_due_notices(TIMER) == []
    events = [e for e in desk.reader.events.get(desk.reader.find_public_list(list_of(call)).id)]
    closes = [e for e in events if type(e).__name__ == "NoticeClosed"]
    assert len(closes) == 1 and closes[0].actor == TIMER.as_actor() and closes[0].closed_on == date(2026, 3, 3)
    assert served_equals_rebuilt(desk, list_of(call))["status"] == "notice_closed"
    assert desk.library.notices() == []


def test_closing_does_not_publish_the_ministry_does_once_no_objection_is_open(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    desk.today = LAST_DAY
    late = desk.app.raise_objection(applicant(82), list_of(call), ids[2], "SAMPLE 最后一天的异议", [])
    desk.today = LAST_DAY + timedelta(days=1)
    desk.sync()
    desk.app.close_due_notices(TIMER)
    with pytest.raises(DomainRuleViolation) as refused:
        desk.app.publish(MINISTRY, list_of(call), None)
    assert refused.value.field == "objections" and late["objection_id"] in refused.value.rule
    desk.app.resolve_objection(MINISTRY, list_of(call), ids[2], late["objection_id"], False, "SAMPLE 不成立")
    published = desk.app.publish(MINISTRY, list_of(call), None)
    assert published["status"] == "published" and [e["case_id"] for e in published["entries"]] == ids
    assert {desk.reader.get_case(c).state for c in ids} == {State.PUBLISHED}
    served = served_equals_rebuilt(desk, list_of(call))
    assert served["published_at"] == published["published_at"]


def test_the_ministry_publishing_after_the_end_closes_the_notice_itself_if_the_timer_has_not(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    desk.today = LAST_DAY + timedelta(days=3)
    published = desk.app.publish(MINISTRY, list_of(call), None)
    assert published["notice"]["closed_on"] == "2026-03-05"
    desk.sync()
    assert desk.app.close_due_notices(TIMER) == []


# -- the shortlist and the product library ---------------------------------------------------------


def test_the_shortlist_is_published_without_notice_and_changes_no_case(desk):
    call = desk.define(sample_call("sample-220-desk", OPENED - timedelta(days=30)))
    case = desk.file(call, 1, dict(SAMPLE_OPEN_COMPETITION_APPLICATION), direction="SAMPLE-R1")
    case = desk.ledgers["review"].get_case(case.id)
    case.record_expert_review(actor=MINISTRY.as_actor(), expert="e-1", scores={"x": 1}, comment="SAMPLE")
    case.shortlist(actor=MINISTRY.as_actor())
    desk.ledgers["review"].save_case(case)
    desk.sync()
    list_id = f"{call['call_id']}:shortlist"
    with pytest.raises(DomainRuleViolation):
        desk.app.open_notice(MINISTRY, list_id, [str(case.id)])
    version = desk.reader.get_case(case.id).version
    document = desk.app.publish(MINISTRY, list_id, [str(case.id)])
    assert document["status"] == "published"
    assert document["entries"][0]["direction_name"] == "SAMPLE 反应器系统方向（示例）"
    assert desk.reader.get_case(case.id).version == version  # still shortlisted, on to its task book
    assert served_equals_rebuilt(desk, list_id)["entries"] == document["entries"]


def test_the_library_holds_published_products_only_searchable_and_paged(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    desk.sync()
    assert desk.library.products(ProductQuery())["total"] == 0  # under notice is not in the library
    with pytest.raises(NotFound):
        desk.library.product(ids[0])
    desk.today = LAST_DAY + timedelta(days=1)
    desk.app.publish(MINISTRY, list_of(call), None)
    desk.sync()

    everything = desk.library.products(ProductQuery(year=call["year"]))
    assert everything["total"] == 3 and [p["case_id"] for p in everything["items"]] == ids
    page_two = desk.library.products(ProductQuery(per_page=2, page=2))
    assert page_two["total"] == 3 and [p["case_id"] for p in page_two["items"]] == ids[2:]
    assert desk.library.products(ProductQuery(name="产品 2"))["items"][0]["case_id"] == ids[1]
    assert desk.library.products(ProductQuery(province="湖北省"))["total"] == 3
    assert desk.library.products(ProductQuery(province="440000"))["total"] == 0
    assert desk.library.products(ProductQuery(domain="生物基材料", type="规模替代型"))["total"] == 3
    assert desk.library.products(ProductQuery(type="重大创新型"))["total"] == 0
    assert desk.library.products(ProductQuery(year=call["year"] + 1))["total"] == 0
    assert desk.library.products(ProductQuery(name="%"))["total"] == 0  # a wildcard is a character here
    one = desk.library.product(ids[0])
    assert one["href"] == f"/publication/products/{ids[0]}" and one["list_id"] == list_of(call)


@pytest.mark.parametrize("args,field", [({"year": "24"}, "year"), ({"page": "0"}, "page"),
                                        ({"per_page": "1000"}, "per_page"), ({"name": "x" * 201}, "name")])
def test_a_bad_search_names_the_parameter(args, field):
    with pytest.raises(ValidationFailed) as refused:
        ProductQuery.from_args(args)
    assert field in refused.value.fields


# -- the ledger's side ------------------------------------------------------------------------------


def test_only_publication_appends_to_a_list(desk, products):
    call, ids = products
    public_list = PublicList.create(actor=MINISTRY.as_actor(), call=call, kind=ListKind.SIGNATURE_PRODUCTS)
    public_list.publish(actor=MINISTRY.as_actor(), entries=ids)
    for owner in ("intake", "verification", "review", "documents"):
        with pytest.raises(EventNotOwned):
            desk.ledgers[owner].save_together(public_list)
    assert desk.reader.find_public_list(list_of(call)) is None


def test_a_notice_that_would_run_into_a_year_the_calendar_does_not_know_is_refused(desk, products):
    call, ids = products
    desk.today = date(last_official_year(), 12, 28)
    preview = desk.app.candidates(MINISTRY, list_of(call))
    assert preview["notice_if_opened_today"] is None and str(last_official_year() + 1) in preview["calendar_problem"]
    with pytest.raises(DomainRuleViolation) as refused:
        desk.app.open_notice(MINISTRY, list_of(call), ids)
    assert refused.value.field == "notice" and "holidays" in refused.value.rule
    assert desk.reader.find_public_list(list_of(call)) is None


# -- a notice into a year the ministry recorded (SAMPLE 2027, invented test data) ---------------------------


def record_sample_2027(desk: Desk) -> CalendarYear:
    """The ministry's record of the SAMPLE 2027 arrangement, as intake saves it."""
    raw = {k: v for k, v in SAMPLE_ARRANGEMENT_2027.items() if k != "year"}
    loaded = {**raw, "days_off": [date.fromisoformat(d) for d in raw["days_off"]],
              "swapped_working_days": [date.fromisoformat(d) for d in raw["swapped_working_days"]]}
    year = CalendarYear.record(actor=MINISTRY.as_actor(), year=2027, arrangement=to_record(loaded))
    desk.ledgers["intake"].save_together(year)
    return year


# 12/24, 12/25, 12/28, 12/29, 12/30, 12/31 (2026, the package), then SAMPLE 2027: 1/1-1/4 off, 1/5, 1/6, 1/7, 1/8
SAMPLE_END = "2027-01-08"


def test_a_notice_runs_into_a_year_the_ministry_recorded_and_records_the_calendar_it_used(desk, products):
    call, ids = products
    desk.today = date(2026, 12, 24)
    if last_official_year() < 2027:  # until the package learns 2027, the year is refused without the record
        with pytest.raises(DomainRuleViolation) as refused:
            desk.app.open_notice(MINISTRY, list_of(call), ids)
        assert "2027" in refused.value.rule
    record_sample_2027(desk)
    document = desk.app.open_notice(MINISTRY, list_of(call), ids)
    assert document["notice"]["starts_on"] == "2026-12-24" and document["notice"]["ends_on"] == SAMPLE_END
    stored = desk.reader.find_public_list(list_of(call))
    (opened,) = [e for e in desk.reader.events.get(stored.id) if type(e).__name__ == "NoticeOpened"]
    assert opened.calendar == {"2026": PACKAGE_BASIS, "2027": {
        "source": "recorded", "version": 1, "notice_number": "国办发明电〔2026〕SAMPLE号"}}
    assert served_equals_rebuilt(desk, list_of(call))["notice"]["ends_on"] == SAMPLE_END

    # The ministry corrects 2027 (4 January worked after all): a new notice would end on 1/7, this one keeps 1/8.
    recorded = desk.reader.find_calendar_year(2027)
    amendment = {k: v for k, v in SAMPLE_AMENDMENT_2027.items() if k != "reason"}
    recorded.amend(actor=MINISTRY.as_actor(), reason=SAMPLE_AMENDMENT_2027["reason"], arrangement=to_record({
        **amendment, "days_off": [date.fromisoformat(d) for d in amendment["days_off"]],
        "swapped_working_days": [date.fromisoformat(d) for d in amendment["swapped_working_days"]]}))
    desk.ledgers["intake"].save_together(recorded)
    assert desk.app._period(10)["ends_on"] == "2027-01-07"
    assert desk.reader.find_public_list(list_of(call)).notice["ends_on"] == date(2027, 1, 8)
    assert served_equals_rebuilt(desk, list_of(call))["notice"]["ends_on"] == SAMPLE_END
    assert all(desk.reader.get_case(c).notice_ends_on == date(2027, 1, 8) for c in ids)


def test_a_notice_opened_before_the_basis_was_recorded_reads_with_an_empty_one(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    ledger = desk.reader
    stream = ledger.find_public_list(list_of(call))
    (stored,) = [s for s in ledger.recorder.select_events(stream.id) if s.topic.endswith("NoticeOpened")]
    state = ledger.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2 and state.pop("calendar") == {"2026": PACKAGE_BASIS}
    v1 = type(stored)(originator_id=stored.originator_id, originator_version=stored.originator_version,
                      topic=stored.topic, state=ledger.mapper.transcoder.encode(state))
    assert ledger.mapper.to_domain_event(v1).calendar == {}


def test_an_objection_stored_before_evidence_was_asked_for_reads_with_none(desk, products):
    call, ids = products
    desk.app.open_notice(MINISTRY, list_of(call), ids)
    desk.app.raise_objection(HUBEI, list_of(call), ids[0], "SAMPLE", [])
    ledger = desk.reader
    (stored,) = [s for s in ledger.recorder.select_events(ledger.get_case(ids[0]).id)
                 if s.topic.endswith("ObjectionRaised")]
    state = ledger.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2 and state.pop("evidence") == []
    v1 = type(stored)(originator_id=stored.originator_id, originator_version=stored.originator_version,
                      topic=stored.topic, state=ledger.mapper.transcoder.encode(state))
    event = ledger.mapper.to_domain_event(v1)
    assert event.evidence == [] and event.reasons == "SAMPLE"

"""A public list (名单) as a stream in the ledger: put up for public notice, objected to, published.

The notices know three lists:

* **入围名单** (`shortlist`): 220号 三(三) "公布入围揭榜单位或联合体名单" — published by
  the ministries after selection, with no public notice (the notice says "公布", not
  "公示"). Publishing it changes no case: the shortlisted units go on to their task books.
* **成功名单** (`successful`): 220号 三(五) "公开发布揭榜任务成功单位或联合体名单".
* **标志性产品名单** (`signature-products`): 382号 三(三) "形成…名单，并面向社会公示 10 个
  工作日，经公示无异议的将正式发布"; published products make up the 标志性产品库.

The last two are *final*: publishing them records `Published` on every entry's case.
Whether a final list first goes up for public notice (公示), and for how many working
days, is the call's `public_notice` (220: none; 382: 10 working days).

One list per call and kind; its identifier is `<call id>:<kind>` (stable, readable,
and the `notice_id` / `list_id` its cases record) and its stream id the uuid5 of it.
The list records what the ministry decided about the list as a whole (its entries,
the notice period, the notice's closing, the entries taken off after an objection
was upheld, the publication); the entries' public fields come from the entries' own
case streams, through `public_fields`, so the list shown is always a projection of
the ledger and can be rebuilt from it (`list_document`).

Owned by publication; routed as `publiclist.*` (shared.domain.streams), which publication's queue binds.
No nameko, no HTTP, no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from shared.domain.actors import Actor, actor_record
from shared.domain.case import Program, State
from shared.domain.errors import DomainRuleViolation, NotFound
from shared.domain.personal import ACTOR, classified
from shared.domain.regions import name_of

LIST_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseplatform:public-list")


class ListKind:
    SHORTLIST = "shortlist"  # 入围名单 (揭榜挂帅)
    SUCCESSFUL = "successful"  # 揭榜任务成功单位或联合体名单
    SIGNATURE_PRODUCTS = "signature-products"  # 年度生物制造标志性产品名单

    ALL = (SHORTLIST, SUCCESSFUL, SIGNATURE_PRODUCTS)
    FINAL = (SUCCESSFUL, SIGNATURE_PRODUCTS)  # publishing them is the case's last step
    PROGRAM: ClassVar[dict[str, str]] = {
        SHORTLIST: Program.OPEN_COMPETITION,
        SUCCESSFUL: Program.OPEN_COMPETITION,
        SIGNATURE_PRODUCTS: Program.SIGNATURE_PRODUCT,
    }


# Which cases of the call belong on each list when it is put up (noticed or, without a
# notice, published). The 入围名单 names every unit the ministry shortlisted that is
# still in the programme; the final lists name every case selected.
ELIGIBLE: dict[str, tuple[str, ...]] = {
    ListKind.SHORTLIST: (
        State.SHORTLISTED, State.IN_IMPLEMENTATION, State.EVALUATED, State.SELECTED, State.NOT_SELECTED,
        State.NOTICE_OPEN, State.DELISTED, State.PUBLISHED,
    ),
    ListKind.SUCCESSFUL: (State.SELECTED,),
    ListKind.SIGNATURE_PRODUCTS: (State.SELECTED,),
}


class ListStatus:
    NOTICE_OPEN = "notice_open"  # 公示中: objections may be raised
    NOTICE_CLOSED = "notice_closed"  # the period is over; waits for the ministry to publish
    PUBLISHED = "published"


class Notice(TypedDict):
    """A list's public notice (公示), as the list holds it once put up."""

    starts_on: date
    ends_on: date  # the last working day of the notice
    working_days: int
    closed_on: date | None  # None while the notice is open


def list_key(call_id: str, kind: str) -> str:
    if kind not in ListKind.ALL:
        raise DomainRuleViolation("kind", f"a list is one of {', '.join(ListKind.ALL)}, not {kind!r}")
    return f"{call_id}:{kind}"


def parse_list_key(list_id: str) -> tuple[str, str]:
    """(call id, kind) of a list identifier; NotFound for anything that is not one."""
    call_id, _, kind = list_id.rpartition(":")
    if not call_id or kind not in ListKind.ALL:
        raise NotFound(f"no list {list_id}: a list is '<call id>:<kind>', kind one of {', '.join(ListKind.ALL)}")
    return call_id, kind


def list_stream_id(list_id: str) -> UUID:
    return uuid5(LIST_NAMESPACE, list_id)


def list_title(call: Mapping[str, Any], kind: str) -> str:
    if kind == ListKind.SIGNATURE_PRODUCTS:
        return f"{call['year']}年度生物制造标志性产品名单"
    if kind == ListKind.SHORTLIST:
        return f"{call['title']}——入围揭榜单位或联合体名单"
    return f"{call['title']}——揭榜任务成功单位或联合体名单"


def direction_names(call: Mapping[str, Any]) -> dict[str, str]:
    section = call.get("open_competition") or {}
    return {d["code"]: d["name"] for d in section.get("directions", [])}


# -- what the public may read of an entry -------------------------------------------------


def public_fields(program: str, application: Mapping[str, Any], province: str) -> dict[str, Any]:
    """The public fields of one application: a whitelist, never the form minus a blacklist.

    标志性产品 (382号 附件1/附件2): the product's name (申请产品名称), the unit (申请单位名称),
    the domain (所属征集领域, with the words of "其他") and type (所属征集类型), and the
    recommending region. 揭榜挂帅 (220号): the direction, the task's title, the lead unit
    and the consortium's other members by name, and the recommending region.

    Nothing else of the form leaves the ministry: no contacts, mobiles or e-mails, no
    legal representative, no credit codes, no figures, no evidence.
    """
    region = {"province": province, "province_name": name_of(province)}
    if program == Program.SIGNATURE_PRODUCT:
        product = application.get("product") or {}
        unit = application.get("applicant") or {}
        domain = product.get("domain", "")
        if product.get("domain_other"):
            domain = f"{domain}（{product['domain_other']}）"
        return {"product": product.get("name", ""), "unit": unit.get("full_name", ""), "domain": domain,
                "type": product.get("type", ""), **region}
    lead = application.get("lead") or {}
    return {"direction": application.get("direction", ""), "task": application.get("title", ""),
            "lead_unit": lead.get("name", ""),
            "members": [m.get("name", "") for m in application.get("members") or []], **region}


def entry_view(position: int, case_id: str, fields: Mapping[str, Any], directions: Mapping[str, str]) -> dict[str, Any]:
    entry = {"position": position, "case_id": case_id, **fields}
    if "direction" in fields:
        entry["direction_name"] = directions.get(fields["direction"], fields["direction"])
    return entry


# -- the list ---------------------------------------------------------------------------------


class PublicList(Aggregate):
    class Event(Aggregate.Event):
        actor: Actor
        personal_fields: ClassVar[Mapping[str, str | None]] = classified(actor=ACTOR)

    class ListCreated(Aggregate.Created):
        actor: Actor
        list_id: str
        call_id: str
        kind: str
        program: str
        year: int
        title: str
        directions: dict[str, str]  # direction code -> name, as the call named them when the list was made
        personal_fields = classified(
            actor=ACTOR, list_id=None, call_id=None, kind=None, program=None, title=None,
            directions=None,
        )

    class NoticeOpened(Event):
        class_version = 2  # v2 added `calendar`

        entries: list[str]  # case ids, in the list's order
        starts_on: date
        ends_on: date  # the last working day of the notice
        working_days: int
        # Which calendar counted each year of the period (shared.domain.calendar.WorkingCalendar.basis),
        # keyed by the year as text: the dates above are recorded, never recomputed, and this says why.
        calendar: dict[str, dict[str, Any]]
        personal_fields = classified(entries=None, calendar=None)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["calendar"] = {}  # opened before the basis was recorded (the holidays package then)

        def apply(self, public_list: PublicList) -> None:
            public_list.entries = list(self.entries)
            public_list.notice = {"starts_on": self.starts_on, "ends_on": self.ends_on,
                                  "working_days": self.working_days, "closed_on": None}
            public_list.status = ListStatus.NOTICE_OPEN

    class EntryDelisted(Event):
        """An objection against the entry was upheld: it leaves the list (the case says why)."""

        case_id: str
        objection_id: str
        resolution: str
        personal_fields = classified(case_id=None, objection_id=None, resolution=None)

        def apply(self, public_list: PublicList) -> None:
            public_list.entries.remove(self.case_id)
            public_list.delisted.append(self.case_id)

    class NoticeClosed(Event):
        closed_on: date
        open_objections: list[dict[str, str]]  # [{"case_id", "objection_id"}] still to be resolved when it closed
        personal_fields = classified(open_objections=None)

        def apply(self, public_list: PublicList) -> None:
            public_list.notice = {**public_list._notice_put_up(), "closed_on": self.closed_on}
            public_list.status = ListStatus.NOTICE_CLOSED

    class ListPublished(Event):
        entries: list[str]  # case ids, in the list's order
        personal_fields = classified(entries=None)

        def apply(self, public_list: PublicList) -> None:
            public_list.entries = list(self.entries)
            public_list.status = ListStatus.PUBLISHED
            public_list.published_at = self.timestamp

    def __init__(self, *, actor: Actor, list_id: str, call_id: str, kind: str, program: str, year: int,
                 title: str, directions: dict[str, str]) -> None:
        self.list_id = list_id
        self.call_id = call_id
        self.kind = kind
        self.program = program
        self.year = year
        self.title = title
        self.directions = dict(directions)
        self.entries: list[str] = []
        self.delisted: list[str] = []
        self.notice: Notice | None = None
        self.status: str | None = None  # nothing public yet
        self.published_at: datetime | None = None

    @classmethod
    def create(cls, *, actor: Actor, call: Mapping[str, Any], kind: str) -> PublicList:
        list_id = list_key(call["call_id"], kind)
        if call["program"] != ListKind.PROGRAM[kind]:
            raise DomainRuleViolation(
                "kind", f"a {kind} list belongs to a {ListKind.PROGRAM[kind]} call; {call['call_id']} is "
                f"{call['program']}")
        return cls._create(
            cls.ListCreated, id=list_stream_id(list_id), actor=actor_record(actor), list_id=list_id,
            call_id=call["call_id"], kind=kind, program=call["program"], year=call["year"],
            title=list_title(call, kind), directions=direction_names(call),
        )

    # -- the notice ----------------------------------------------------------------------

    def open_notice(self, *, actor: Actor, entries: list[str], starts_on: date, ends_on: date,
                    working_days: int, calendar: dict[str, dict[str, Any]]) -> None:
        if self.status is not None:
            raise DomainRuleViolation("notice", f"list {self.list_id} is already {self.status}")
        if self.kind not in ListKind.FINAL:
            raise DomainRuleViolation("notice", f"the {self.kind} list is published without a public notice "
                                                "(220号: 公布入围揭榜单位或联合体名单)")
        check_entries(entries)
        if ends_on < starts_on:
            raise DomainRuleViolation("ends_on", "a notice cannot end before it starts")
        if not calendar:
            raise DomainRuleViolation("calendar", "a notice records which calendar counted its working days")
        self.trigger_event(PublicList.NoticeOpened, actor=actor_record(actor), entries=list(entries),
                           starts_on=starts_on, ends_on=ends_on, working_days=working_days,
                           calendar=dict(calendar))

    def delist(self, *, actor: Actor, case_id: str, objection_id: str, resolution: str) -> None:
        if self.status not in (ListStatus.NOTICE_OPEN, ListStatus.NOTICE_CLOSED):
            raise DomainRuleViolation("list", f"list {self.list_id} is {self.status or 'not put up'}: "
                                              "entries leave a list only during its notice")
        if case_id not in self.entries:
            raise DomainRuleViolation("case_id", f"case {case_id} is not on list {self.list_id}")
        self.trigger_event(PublicList.EntryDelisted, actor=actor_record(actor), case_id=case_id,
                           objection_id=objection_id, resolution=resolution)

    def notice_due_to_close(self, today: date) -> bool:
        return self.status == ListStatus.NOTICE_OPEN and today > self._notice_put_up()["ends_on"]

    def close_notice(self, *, actor: Actor, today: date, open_objections: list[dict[str, str]]) -> None:
        """The notice closes by itself the day after its last working day; once."""
        if self.status != ListStatus.NOTICE_OPEN:
            raise DomainRuleViolation("notice", f"list {self.list_id} has no open notice ({self.status})")
        if not self.notice_due_to_close(today):
            raise DomainRuleViolation(
                "notice", f"the public notice runs until {self._notice_put_up()['ends_on'].isoformat()} inclusive")
        self.trigger_event(PublicList.NoticeClosed, actor=actor_record(actor), closed_on=today,
                           open_objections=list(open_objections))

    def accepts_objections(self, today: date) -> bool:
        if self.status != ListStatus.NOTICE_OPEN:
            return False
        notice = self._notice_put_up()
        return notice["starts_on"] <= today <= notice["ends_on"]

    # -- publication -------------------------------------------------------------------------

    def publish(self, *, actor: Actor, entries: list[str] | None = None,
                open_objections: Mapping[str, list[str]] | None = None) -> None:
        """Publishes the list: after its notice, the entries that remain; without one, `entries`.

        A list under notice publishes only once the notice is closed and no objection
        against a remaining entry is open (382号: 经公示无异议的将正式发布).
        """
        if self.status == ListStatus.PUBLISHED:
            raise DomainRuleViolation("list", f"list {self.list_id} was published at {self.published_at}")
        if self.status == ListStatus.NOTICE_OPEN:
            raise DomainRuleViolation(
                "notice", f"the public notice runs until {self._notice_put_up()['ends_on'].isoformat()} inclusive")
        if self.status == ListStatus.NOTICE_CLOSED:
            if entries is not None and list(entries) != self.entries:
                raise DomainRuleViolation(
                    "case_ids", "a list that was under notice publishes the entries that remain on it: "
                    f"{', '.join(self.entries) or 'none'}")
            entries = list(self.entries)
            still_open = {c: ids for c, ids in (open_objections or {}).items() if ids and c in entries}
            if still_open:
                raise DomainRuleViolation("objections", "objections still open: " + "; ".join(
                    f"{c}: {', '.join(ids)}" for c, ids in still_open.items()))
            if not entries:
                raise DomainRuleViolation("case_ids", "every entry left the list during its notice: nothing to publish")
        else:
            entries = entries or []
            check_entries(entries)
        self.trigger_event(PublicList.ListPublished, actor=actor_record(actor), entries=list(entries))

    @property
    def noticed(self) -> bool:
        return self.notice is not None

    def _notice_put_up(self) -> Notice:
        """The notice of a list whose status says it went up for one (NoticeOpened sets both)."""
        assert self.notice is not None, f"list {self.list_id} is {self.status} without a notice"
        return self.notice


def check_entries(entries: Iterable[str]) -> None:
    entries = list(entries)
    if not entries:
        raise DomainRuleViolation("case_ids", "a list names at least one case")
    if len(set(entries)) != len(entries):
        raise DomainRuleViolation("case_ids", "a case is named once")


# -- the list as the public reads it ----------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def list_document(public_list: PublicList, cases: Mapping[str, Any]) -> dict[str, Any]:
    """The list as published or noticed, rebuilt from the ledger: the list's stream and its entries' cases.

    `cases` maps each entry's case id to its Case aggregate. This is the same document
    the publication service serves from its read model; a test compares the two.
    """
    notice = None
    if public_list.notice is not None:
        notice = {k: _iso(v) for k, v in public_list.notice.items()}
    entries = [
        entry_view(n, case_id, public_fields(cases[case_id].program, cases[case_id].application,
                                             cases[case_id].province), public_list.directions)
        for n, case_id in enumerate(public_list.entries, start=1)
    ]
    return {
        "list_id": public_list.list_id, "kind": public_list.kind, "call_id": public_list.call_id,
        "year": public_list.year, "title": public_list.title, "status": public_list.status,
        "notice": notice, "published_at": _iso(public_list.published_at), "entries": entries,
    }

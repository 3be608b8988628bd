"""Events as declared contracts: the kinds of stream, the event types that cross the wire, the envelope.

What a queue binds and a consumer reads is written out (shared/domain/streams.py,
shared/infra/messaging/contracts.py) and held here against the aggregates both ways, so
renaming an event or an aggregate fails this file instead of silently unbinding a queue.
Messages in the older envelope (`case_id` as every stream's id), still queued or parked when
a deployment upgrades, load into today's shape and reach the projections as they should.
"""

from __future__ import annotations

import inspect
import json
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from eventsourcing.domain import Aggregate, DomainEvent

from services.review import readmodels as review_rm
from shared.domain.allocation import Allocation
from shared.domain.calendar_year import CalendarYear
from shared.domain.call import Call
from shared.domain.case import Case, Level, Program
from shared.domain.dossier import Dossier
from shared.domain.errors import EventNotOwned
from shared.domain.panel import Panel
from shared.domain.publication_list import ListKind, PublicList
from shared.domain.registration_area import check_registration_area
from shared.domain.streams import APPENDERS, BY_NAME, STREAM_KINDS, kind_of_event
from shared.infra.config import SERVICES
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.contracts import (
    STREAM_EVENTS,
    IntegrationEventSchema,
    UndeclaredEvent,
    binding,
    integration_event,
    routing_key,
)
from shared.infra.messaging.topology import SUBSCRIPTIONS
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import credit_code, sample_382, signature_form
from tests.unit.parties import APPLICANT, MINISTRY, PROVINCE

SCHEMA = IntegrationEventSchema()
CALL = sample_382("sample-382-contracts", date(2026, 1, 5))


def declared_events(aggregate: type) -> dict[str, type]:
    """The event classes an aggregate declares: not its `Event` base, nor the `Created` that
    eventsourcing's metaclass adds beside an aggregate's own creation event (never emitted)."""
    return {
        name: value for name, value in vars(aggregate).items()
        if inspect.isclass(value) and issubclass(value, DomainEvent)
        and value is not aggregate.Event and name != "Created"
    }


def submitted_case() -> Case:
    code = credit_code(1, "420100")
    return Case.submit(
        actor={**APPLICANT, "org": code}, call_id=CALL["call_id"], call_version=1, program=Program.SIGNATURE_PRODUCT,
        direction="生物基材料", applicant={"credit_code": code, "name": "SAMPLE 单位 1"}, province="420000",
        city=None, chain=[Level.PROVINCE], public_notice_required=True, title="SAMPLE 产品 1",
        application=signature_form(code, "SAMPLE 产品 1"),
        registration_check=check_registration_area(code, "420000", None))


def formed_panel() -> Panel:
    return Panel.form(actor=MINISTRY, call_id=CALL["call_id"], direction="生物基材料",
                      criteria=[{"id": "innovation", "max_score": 100}], experts=[{"id": "expert-1"}])


def older_shape(envelope: dict) -> dict:
    """The envelope as relays sent it before `stream_id`: `case_id` the stream's id whatever its kind."""
    old = {key: value for key, value in envelope.items() if key != "stream_id"}
    old["case_id"] = envelope["stream_id"]
    return old


# -- the declaration against the aggregates ------------------------------------------------


def test_the_kinds_of_stream_keep_their_names_on_the_wire():
    assert [(kind.name, kind.aggregate) for kind in STREAM_KINDS] == [
        ("case", Case), ("call", Call), ("allocation", Allocation), ("panel", Panel), ("dossier", Dossier),
        ("publiclist", PublicList), ("calendar", CalendarYear)]


def test_the_contract_lists_the_events_of_every_declared_kind_and_of_no_other():
    assert set(STREAM_EVENTS) == set(BY_NAME)


@pytest.mark.parametrize("kind", STREAM_KINDS, ids=lambda kind: kind.name)
def test_every_event_of_the_aggregate_is_declared_and_every_declared_type_is_one_of_its_events(kind):
    events = declared_events(kind.aggregate)
    assert events, f"{kind.aggregate.__name__} declares no event: the walk above missed them"
    assert set(events) - STREAM_EVENTS[kind.name] == set(), "events with no routing key"
    assert STREAM_EVENTS[kind.name] - set(events) == set(), "declared types no event has"
    for name, event_class in events.items():
        assert kind_of_event(event_class) is kind
        assert routing_key(kind.name, name) == f"{kind.name}.{name}"


def test_an_event_type_outside_the_declaration_has_no_routing_key():
    with pytest.raises(UndeclaredEvent):
        routing_key("publiclist", "ListWasPublished")  # an event renamed without its contract
    with pytest.raises(UndeclaredEvent):
        routing_key("PublicList", "ListPublished")  # the class's name is not the kind's
    with pytest.raises(UndeclaredEvent):
        routing_key("case", "ListPublished")  # types are declared per kind of stream


def test_an_event_of_an_aggregate_no_kind_declares_has_no_envelope():
    class Stray(Aggregate):
        class Opened(Aggregate.Created):
            pass

    stray = Stray._create(Stray.Opened, id=uuid.uuid4())
    with pytest.raises(KeyError, match="no event of a declared kind of stream"):
        integration_event(stray.pending_events[0], 1)


def test_every_queue_binds_whole_declared_kinds():
    assert SUBSCRIPTIONS == {
        "intake": ("case.#", "call.#", "calendar.#"), "verification": ("case.#",), "review": ("case.#", "panel.#"),
        "publication": ("case.#", "publiclist.#"), "documents": ("case.#",), "audit": ("case.#",),
        "notifications": ("case.#", "panel.#")}
    with pytest.raises(UndeclaredEvent):
        binding("publiclists")


# -- who appends to which kind -------------------------------------------------------------

SINGLE_WRITER_STREAMS = {
    "call": (lambda: Call.define(actor=MINISTRY, definition={"call_id": "sample-call", "version": 1}), "intake"),
    "recommendation places": (lambda: Allocation.open(actor=PROVINCE, call_id="c-1", kind="recommendation",
                                                      scope="420000"), "verification"),
    "shortlist places": (lambda: Allocation.open(actor=MINISTRY, call_id="c-1", kind="shortlist", scope="d"), "review"),
    "success places": (lambda: Allocation.open(actor=MINISTRY, call_id="c-1", kind="success", scope="d"), "review"),
    "panel": (formed_panel, "review"),
    "dossier": (lambda: Dossier.open(actor=APPLICANT, credit_code=APPLICANT["org"]), "documents"),
    "public list": (lambda: PublicList.create(actor=MINISTRY, call=CALL, kind=ListKind.SIGNATURE_PRODUCTS),
                    "publication"),
    "calendar year": (lambda: CalendarYear.record(actor=MINISTRY, year=2027, arrangement={
        "notice_number": "SAMPLE", "days_off": ["2027-01-01"], "swapped_working_days": []}), "intake"),
}


def test_the_services_that_append_are_every_service_but_audit_and_notifications():
    assert set(SERVICES) - {"audit", "notifications"} == APPENDERS


@pytest.mark.parametrize("stream", SINGLE_WRITER_STREAMS)
def test_only_the_declared_service_appends_to_a_stream(stream):
    make, owner = SINGLE_WRITER_STREAMS[stream]
    for service in sorted(APPENDERS - {owner}):
        ledger = CaseLedger("memory://", owner=service)
        with pytest.raises(EventNotOwned):
            ledger.save_together(make())
        assert ledger.max_notification_id() == 0
    ledger = CaseLedger("memory://", owner=owner)
    ledger.save_together(make())
    assert ledger.max_notification_id() == 1


# -- the envelope ---------------------------------------------------------------------------


def test_a_case_event_names_its_case_as_case_id_and_stream_id():
    case = submitted_case()
    envelope = integration_event(case.pending_events[0], 7)
    assert {k: envelope[k] for k in ("message_id", "stream", "stream_id", "case_id", "version", "type",
                                      "notification_id")} == {
        "message_id": f"{case.id}:1", "stream": "case", "stream_id": str(case.id), "case_id": str(case.id),
        "version": 1, "type": "Submitted", "notification_id": 7}
    assert routing_key(envelope["stream"], envelope["type"]) == "case.Submitted"
    assert SCHEMA.load(json.loads(json.dumps(envelope))) == envelope


def test_a_panel_event_names_its_panel_as_stream_id_and_carries_no_case_id():
    panel = formed_panel()
    envelope = integration_event(panel.pending_events[0], 8)
    assert "case_id" not in envelope
    assert (envelope["stream"], envelope["stream_id"], envelope["message_id"]) == (
        "panel", str(panel.id), f"{panel.id}:1")
    assert routing_key(envelope["stream"], envelope["type"]) == "panel.PanelFormed"
    assert SCHEMA.load(json.loads(json.dumps(envelope))) == envelope


def test_an_older_case_message_without_a_stream_loads_as_a_case_event():
    case_id = str(uuid.uuid4())
    old = {"message_id": f"{case_id}:2", "case_id": case_id, "version": 2, "type": "Withdrawn",
           "timestamp": "2025-06-02T08:00:00+00:00", "actor": APPLICANT, "payload": {"reason": "SAMPLE"},
           "notification_id": 12}
    assert SCHEMA.load(old) == {**old, "stream": "case", "stream_id": case_id}


def test_an_older_panel_message_loads_with_the_panel_as_its_stream_and_no_case_id():
    panel = formed_panel()
    envelope = integration_event(panel.pending_events[0], 8)
    old = older_shape(envelope)
    assert old["case_id"] == str(panel.id) and "stream_id" not in old
    assert SCHEMA.load(old) == envelope


def test_older_panel_messages_feed_reviews_panel_projection_by_the_panels_id(tmp_path):
    """Queued before the upgrade, applied after it: each expert's list is filed under the panel."""
    case_id = str(uuid.uuid4())
    panel = formed_panel()
    panel.assign(actor=MINISTRY, case_id=case_id, expert="expert-1", units={})
    queued = [older_shape(integration_event(event, n)) for n, event in enumerate(panel.pending_events, start=1)]
    store = ReadModelStore(f"sqlite:///{tmp_path}/review.db", review_rm.metadata)
    try:
        for message in queued:
            assert store.apply_once(SCHEMA.load(json.loads(json.dumps(message))), review_rm.project)
        with store.engine.connect() as conn:
            panels = conn.execute(sa.select(review_rm.panels.c.panel_id, review_rm.panels.c.version)).all()
            assigned = conn.execute(sa.select(review_rm.expert_assignments.c.panel_id,
                                              review_rm.expert_assignments.c.case_id,
                                              review_rm.expert_assignments.c.expert)).all()
    finally:
        store.dispose()
    assert [tuple(row) for row in panels] == [(str(panel.id), 2)]
    assert [tuple(row) for row in assigned] == [(str(panel.id), case_id, "expert-1")]


def _case_envelope() -> dict:
    return integration_event(submitted_case().pending_events[0], 1)


def _panel_envelope() -> dict:
    return integration_event(formed_panel().pending_events[0], 1)


@pytest.mark.parametrize("broken, field", [
    (lambda: {**_panel_envelope(), "case_id": _panel_envelope()["stream_id"]}, "case_id"),
    (lambda: {**_case_envelope(), "case_id": str(uuid.uuid4())}, "case_id"),
    (lambda: {k: v for k, v in _case_envelope().items() if k != "case_id"}, "case_id"),
    (lambda: {**_case_envelope(), "stream": "publiclists"}, "stream"),
    (lambda: {**_panel_envelope(), "stream_id": "panel-1"}, "stream_id"),
    (lambda: {**older_shape(_panel_envelope()), "stream": "Panel"}, "stream"),
    (lambda: {"message_id": "garbage:1", "type": "Submitted"}, "case_id"),
    (lambda: {"message_id": "garbage:1", "type": "Submitted"}, "stream_id"),
], ids=["case_id-on-a-panel", "case_id-not-the-case", "case-without-case_id", "undeclared-kind",
        "stream_id-not-a-uuid", "older-shape-undeclared-kind", "no-ids-names-case_id", "no-ids-names-stream_id"])
def test_an_envelope_that_breaks_the_contract_is_refused(broken, field):
    assert field in SCHEMA.validate(broken())

"""Personal information declared once (issue #21, item 1): every string field of every schema the
platform loads says whether it holds a person's data, and whose; `personal_paths` finds it in a
loaded document.

The schemas walked: every route's request body (and the documented bodies the application loads
itself: both application forms, a call definition, a calendar year), every application form a
shipped call builds (one per direction's category for 揭榜挂帅), and the integration event's envelope.
A field added without a classification fails here, naming its path.
"""

from __future__ import annotations

import pytest
from marshmallow import Schema, fields

from services.cli.registry import service_class
from shared.domain import personal
from shared.domain.call_rules.shipped import load_shipped
from shared.domain.forms.for_call import application_schema
from shared.domain.forms.open_competition import open_competition_schema
from shared.domain.forms.open_competition_tasks import CATEGORIES
from shared.domain.forms.samples import (
    SAMPLE_DIRECTIONS,
    SAMPLE_OPEN_COMPETITION_APPLICATION,
    SAMPLE_SIGNATURE_PRODUCT_APPLICATION,
)
from shared.domain.forms.signature_product import signature_product_schema
from shared.infra.config import SERVICES
from shared.infra.messaging.contracts import IntegrationEventSchema
from shared.infra.web.http import Api


def route_schemas() -> dict[str, Schema]:
    found: dict[str, Schema] = {}
    for name in SERVICES:
        cls = service_class(name)
        for attr in dir(cls):
            for entrypoint in getattr(getattr(cls, attr), "nameko_entrypoints", ()):
                if not isinstance(entrypoint, Api):
                    continue
                where = f"{name} {entrypoint.method} {entrypoint.url}"
                if entrypoint.body_schema is not None:
                    found[where] = entrypoint.body_schema
                if entrypoint.documented_body is not None:
                    for label, schema in entrypoint.documented_body.schemas.items():
                        found[f"{where} {label}"] = schema
    return found


def form_schemas() -> dict[str, Schema]:
    found: dict[str, Schema] = {}
    for call in load_shipped():
        if call.get("signature_product"):
            found[f"form of {call['call_id']}"] = application_schema(call)
    for category in CATEGORIES:
        found[f"揭榜挂帅 form, {category}"] = open_competition_schema(
            category, [{"code": "X-1", "category": category}])
    return found


SCHEMAS = {**route_schemas(), **form_schemas(), "integration event": IntegrationEventSchema()}


def test_the_walk_reaches_the_forms_the_call_definition_and_the_request_bodies():
    names = " ".join(SCHEMAS)
    for expected in ("SignatureProductApplication", "OpenCompetitionApplication", "CallDefinition",
                     "POST /review/panels", "POST /verification/"):
        assert expected in names


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_string_field_is_classified(name):
    problems = personal.unclassified_fields(SCHEMAS[name])
    assert problems == [], "\n".join(f"{p.path}: {p.why}" for p in problems)


def test_an_unclassified_string_field_fails_and_a_classified_one_passes():
    class Contact(Schema):
        name = fields.String(metadata=personal.PERSONAL)
        phone = fields.String()  # a new field nobody classified

    class Form(Schema):
        title = fields.String(metadata=personal.NOT_PERSONAL)
        contact = fields.Nested(Contact, metadata=personal.person(personal.CONTACT))
        note = fields.String(metadata=personal.PERSONAL)  # personal, but of no one
        email = fields.Email(metadata=personal.NOT_PERSONAL)
        mailbox = fields.Email(metadata=personal.OFFICE)  # an office's, said so: the one address that is no one's

    problems = {p.path: p.why for p in personal.unclassified_fields(Form())}
    assert set(problems) == {"contact.phone", "note", "email"}
    assert "says nothing" in problems["contact.phone"]
    assert "outside any data subject" in problems["note"]
    assert "always a person's" in problems["email"]


def test_an_unknown_kind_of_subject_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        personal.person("neighbour")


def test_personal_paths_of_the_sample_382_application_name_each_contact_and_the_legal_representative():
    schema = signature_product_schema(["生物基材料"], ["规模替代型"])
    loaded = schema.load(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    found = {(v.path, v.kind, v.subject) for v in personal.personal_paths(schema, loaded)}
    assert found == {
        *{(f"cover.{c}.{f}", "contact", f"cover.{c}")
          for c in ("contact_1", "contact_2") for f in ("name", "post", "mobile", "email")},
        ("applicant.legal_representative", "legal_representative", "applicant.legal_representative"),
    }
    values = {v.path: v for v in personal.personal_paths(schema, loaded)}
    assert loaded["cover"]["contact_1"]["mobile"] == "13800138000"
    assert values["cover.contact_1.mobile"].subject != values["cover.contact_2.mobile"].subject


def test_the_sample_220_application_holds_no_personal_data():
    schema = open_competition_schema(SAMPLE_DIRECTIONS[0]["category"], SAMPLE_DIRECTIONS)
    loaded = schema.load(SAMPLE_OPEN_COMPETITION_APPLICATION)
    assert personal.personal_paths(schema, loaded) == []


def test_each_expert_of_a_panel_is_a_subject_of_their_own():
    schema = SCHEMAS["review POST /review/panels"]
    body = {"call_id": "c", "direction": "d", "criteria": [{"id": "q", "name": "quality", "max_score": 10}],
            "experts": [{"id": "sample-expert-1", "name": "SAMPLE 专家甲", "unit": "u1"},
                        {"id": "sample-expert-2", "name": "SAMPLE 专家乙", "unit": "u2"}]}
    found = {(v.path, v.subject, v.kind) for v in personal.personal_paths(schema, schema.load(body))}
    # The name is the expert's (sealed, erasable); the id is their account's subject, a pseudonym kept
    # in the clear like every event's actor; the units are units' credit codes, no one's data.
    assert found == {("experts.0.name", "experts.0", personal.EXPERT), ("experts.1.name", "experts.1", personal.EXPERT),
                     ("experts.0.id", "experts.0.id", personal.ACTOR), ("experts.1.id", "experts.1.id", personal.ACTOR)}
    assert {personal.ACTOR} == personal.KEPT_IN_CLEAR


# -- events ---------------------------------------------------------------------------------------

SCALARS = {"int", "float", "bool", "date", "date | None", "int | None"}


def event_classes() -> dict[str, type]:
    from eventsourcing.domain import CanMutateAggregate

    from shared.domain.allocation import Allocation
    from shared.domain.calendar_year import CalendarYear
    from shared.domain.call import Call
    from shared.domain.case import Case
    from shared.domain.dossier import Dossier
    from shared.domain.panel import Panel
    from shared.domain.publication_list import PublicList

    found = {}
    for aggregate in (Case, Panel, Dossier, PublicList, Call, Allocation, CalendarYear):
        for name, value in vars(aggregate).items():
            if isinstance(value, type) and issubclass(value, CanMutateAggregate) and name != "Event":
                found[f"{aggregate.__name__}.{name}"] = value
    return found


EVENTS = event_classes()


def declared_attributes(event_class: type) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for cls in reversed(event_class.__mro__):
        if cls.__module__.startswith("shared.domain"):
            attributes.update(vars(cls).get("__annotations__", {}))
    attributes.pop("personal_fields", None)
    return attributes


def test_the_event_walk_reaches_every_kind_of_stream():
    assert {"Case.Submitted", "Case.EvidenceAttached", "Panel.PanelFormed", "Dossier.DocumentDeposited",
            "PublicList.ListCreated", "Call.CallDefined", "Allocation.PlaceReleased",
            "CalendarYear.YearAmended"} <= set(EVENTS)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_attribute_of_an_event_that_can_hold_text_is_classified(name):
    event_class = EVENTS[name]
    attributes = declared_attributes(event_class)
    classified = personal.event_personal_fields(event_class)
    textual = {a for a, annotation in attributes.items() if str(annotation) not in SCALARS}
    assert textual - set(classified) == set(), "add them to the event's personal_fields"
    assert set(classified) - set(attributes) == set(), "personal_fields names attributes the event does not have"


def test_the_people_in_events_are_classified_as_the_issue_names_them():
    from shared.domain.case import Case
    from shared.domain.panel import Panel

    assert personal.event_personal_fields(Case.Submitted)["application"] == personal.BY_SCHEMA
    assert personal.event_personal_fields(Case.Submitted)["actor"] == personal.ACTOR
    assert personal.event_personal_fields(Case.EvidenceAttached)["filename"] == personal.DOCUMENT_AUTHOR
    assert personal.event_personal_fields(Case.TaskBookAmended)["signatories"] == personal.SIGNATORY
    # The experts are a document review's PanelSchema classifies (each name the expert's, sealed);
    # a declared relation is the expert's own text; the expert's id, as on every event, an account's.
    assert personal.event_personal_fields(Panel.PanelFormed)["experts"] == personal.BY_SCHEMA
    assert personal.event_personal_fields(Panel.ConflictDeclared)["relation"] == personal.EXPERT
    assert personal.event_personal_fields(Panel.ExpertAssigned)["expert"] == personal.ACTOR
    with pytest.raises(ValueError, match="neither a kind"):
        personal.classified(name="somebody")


def test_codes_digests_and_choices_need_no_mark_but_a_phone_pattern_does():
    from marshmallow import validate

    class Body(Schema):
        digest = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"))
        code = fields.String(validate=validate.Regexp(r"^[A-Z]{2,16}$"))
        loose_code = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"))
        level = fields.String(validate=validate.OneOf(["city", "province"]))
        phone = fields.String(validate=validate.Regexp(r"^1\d{10}$"))
        words = fields.String(validate=validate.Regexp(r"\S"))

    assert {p.path for p in personal.unclassified_fields(Body())} == {"phone", "words", "loose_code"}


def test_the_authority_s_contact_is_one_subject_the_whole_body():
    schema = SCHEMAS["verification PUT /verification/contact"]
    body = schema.load({"name": "SAMPLE 赵联络", "post": "SAMPLE 处长", "phone": "13600136000"})
    found = {(v.path, v.kind, v.subject) for v in personal.personal_paths(schema, body)}
    assert found == {("name", "authority_contact", ""), ("post", "authority_contact", ""),
                     ("phone", "authority_contact", "")}  # no 职称 given: nothing to hold

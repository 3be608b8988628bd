"""Request and response shapes of the intake API.

The call definition is `shared.domain.call_rules.CallDefinitionSchema`; the application
forms are in `shared.domain.forms` and depend on the call, so they are applied
by the application layer rather than by the route.
"""

import json
from importlib import resources

from marshmallow import Schema, fields, validate

from shared.domain.calendar_samples import SAMPLE_AMENDMENT_2027, SAMPLE_ARRANGEMENT_2027
from shared.domain.calendar_year import AmendmentSchema, ArrangementSchema
from shared.domain.call_rules.schema import CallDefinitionSchema
from shared.domain.forms.for_call import application_schema
from shared.domain.forms.open_competition import open_competition_schema
from shared.domain.forms.samples import (
    SAMPLE_CATEGORY,
    SAMPLE_DIRECTIONS,
    SAMPLE_OPEN_COMPETITION_APPLICATION,
    SAMPLE_SIGNATURE_PRODUCT_APPLICATION,
)
from shared.domain.personal import BY_SCHEMA, NOT_PERSONAL, PERSONAL_KEY
from shared.infra.personal.schemas import ErasureRequestSchema, SubjectSchema
from shared.infra.web.openapi import DocumentedBody, OpenSchema


class ResubmitSchema(Schema):
    application = fields.Dict(metadata={PERSONAL_KEY: BY_SCHEMA}, required=True)
    changes = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=2000))


class WithdrawSchema(Schema):
    reason = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=2000))


class ErasureSchema(ErasureRequestSchema):
    documents = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")), load_default=list,
                            validate=validate.Length(max=50), metadata={
                                "description": "evidence of the case (SHA-256) that holds only these people's data, "
                                               "to be withheld as the request says (the bytes stay under object lock)"})


class ErasedSchema(Schema):
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    subjects = fields.List(fields.String(), required=True)
    keys_destroyed = fields.Integer(required=True)
    documents_withheld = fields.List(fields.String(), required=True)


class SubjectsSchema(Schema):
    case_id = fields.String(required=True)
    subjects = fields.List(fields.Nested(SubjectSchema), required=True)


class DraftSchema(Schema):
    call_id = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=64))
    form = fields.Dict(metadata={PERSONAL_KEY: BY_SCHEMA}, required=True)


class DraftUpdateSchema(Schema):
    form = fields.Dict(metadata={PERSONAL_KEY: BY_SCHEMA}, required=True)


class CaseRowSchema(Schema):
    case_id = fields.String(required=True)
    call_id = fields.String(required=True)
    program = fields.String(required=True)
    direction = fields.String(required=True)
    title = fields.String(required=True)
    applicant = fields.String(required=True)
    applicant_name = fields.String(required=True)
    province = fields.String(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    updated_at = fields.String(required=True)


CALL_QUERY = {"version": fields.Integer(strict=False, validate=validate.Range(min=1), metadata={
    "description": "an earlier version of the call (default: the latest)"})}


class CallVersionSchema(Schema):
    call_id = fields.String(required=True)
    version = fields.Integer(required=True)


class CallSchema(OpenSchema):
    """A call definition (shared.domain.call_rules.CallDefinitionSchema), as stored."""

    call_id = fields.String(required=True)
    version = fields.Integer(required=True)
    program = fields.String(required=True)
    title = fields.String(required=True)


class CountsSchema(Schema):
    call_id = fields.String(required=True)
    by_direction = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())
    by_province = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())
    by_state = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())


class DraftSavedSchema(Schema):
    draft_id = fields.String(required=True)
    call_id = fields.String(required=True)
    updated_at = fields.String(required=True)


class DraftDeletedSchema(Schema):
    draft_id = fields.String(required=True)
    deleted_at = fields.String(required=True)


class DraftViewSchema(DraftSavedSchema):
    form = fields.Dict(required=True)


def _shipped(name: str) -> dict:
    return json.loads(resources.files("shared.domain").joinpath(f"calls/{name}.json").read_text("utf-8"))


CALL_BODY = DocumentedBody(
    schemas={"CallDefinition": CallDefinitionSchema()},
    examples={"220号 as shipped": _shipped("open_competition_2025_220"),
              "382号 as shipped": _shipped("signature_product_2024_382")},
    description="a call definition: every value taken from the notice, what it leaves unsaid null with a note",
)

APPLICATION_BODY = DocumentedBody(
    schemas={
        "SignatureProductApplication": application_schema(_shipped("signature_product_2024_382")),
        # The real nine directions of 220号 are in an attachment we do not have: the schema
        # shown is of a SAMPLE call; GET /intake/calls/{call_id}/form gives any call's own.
        "OpenCompetitionApplication": open_competition_schema(SAMPLE_CATEGORY, SAMPLE_DIRECTIONS),
    },
    examples={"SAMPLE 标志性产品申请表 (382号)": SAMPLE_SIGNATURE_PRODUCT_APPLICATION,
              "SAMPLE 揭榜挂帅 application (220号, a SAMPLE direction)": SAMPLE_OPEN_COMPETITION_APPLICATION},
    description="the call's own application form; its product domains and types, or its directions and their "
                "task fields, come from the call: GET /intake/calls/{call_id}/form?direction= gives its schema. "
                "Rules across fields (a member's part, the conditional sections) are checked on submission and "
                "refused with the field named.",
)

FORM_QUERY = {"direction": fields.String(validate=validate.Length(min=1, max=64), metadata={
    "description": "the task direction (揭榜挂帅 calls: its category decides the task fields)"})}


# -- the calendar: a year's holiday arrangement as the ministry records it --

ARRANGEMENT_BODY = DocumentedBody(
    schemas={"CalendarYearArrangement": ArrangementSchema()},
    examples={"SAMPLE 2027 (invented test data, not the real arrangement)": SAMPLE_ARRANGEMENT_2027},
    description="a year's official holiday arrangement as the State Council's notice (国办发明电〔YYYY〕N号) "
                "gives it: the days off (放假) and the weekend days worked instead (调休上班), every date inside "
                "the year, no day both, a swapped working day a Saturday or Sunday. It overrides the holidays "
                "package for that year. Refusals name the field, e.g. swapped_working_days[1].",
)

AMENDMENT_BODY = DocumentedBody(
    schemas={"CalendarYearAmendment": AmendmentSchema()},
    examples={"SAMPLE 2027 correction (test data)": SAMPLE_AMENDMENT_2027},
    description="the year's whole arrangement restated, with the reason: a new version. What was computed "
                "on an earlier version (a notice's end date) keeps the dates it recorded.",
)


class CalendarVersionSchema(Schema):
    year = fields.Integer(required=True)
    version = fields.Integer(required=True)


class RecordedYearSchema(OpenSchema):
    """The latest recorded version of a year: its notice, days off, swapped working days, who recorded it."""

    year = fields.Integer(required=True)
    version = fields.Integer(required=True)
    notice_number = fields.String(required=True)
    notice_title = fields.String(required=True)
    days_off = fields.List(fields.String(), required=True)
    swapped_working_days = fields.List(fields.String(), required=True)


class CalendarYearsSchema(Schema):
    package = fields.String(required=True, metadata={"description": "the holidays package and its version"})
    package_last_year = fields.Integer(required=True, metadata={"description": "the last year the package knows"})
    recorded = fields.List(fields.Nested(RecordedYearSchema), required=True)


class CalendarYearSchema(OpenSchema):
    """The calendar in force for a year (`source`: recorded or holidays) and every recorded version."""

    year = fields.Integer(required=True)
    in_force = fields.Dict(required=True)
    versions = fields.List(fields.Dict(), required=True)

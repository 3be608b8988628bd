"""Request shapes of the ministry's review desk."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain.personal import ACTOR, EXPERT, NOT_PERSONAL, PERSONAL, SIGNATORY, person
from shared.infra.personal.schemas import SubjectSchema
from shared.infra.web.views import CaseViewSchema

# Checked by the service with its own message; declared to be documented and so that any
# other parameter is refused.
BOARD_QUERY = {"due_within": fields.String(metadata={
    "description": "days ahead counted as due soon, 0 to 3660 (default 30)"})}


class ShortlistSchema(Schema):
    shortlisted = fields.Boolean(required=True)
    reason = fields.String(metadata=NOT_PERSONAL, load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def reason_when_declined(self, data, **kwargs):
        if not data["shortlisted"] and not data.get("reason"):
            raise ValidationError("a case not shortlisted needs a reason", "reason")


class MilestoneSchema(Schema):
    id = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=32))
    title = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=200))
    due_on = fields.Date(required=True)
    deliverable = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=1000))
    evidence_required = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=1000))


class SignatorySchema(Schema):
    party = fields.String(required=True, validate=validate.OneOf(["ministry", "cas", "province", "unit"]))
    name = fields.String(metadata=PERSONAL, required=True, validate=validate.Length(min=1, max=200))
    signed_on = fields.Date(required=True)


class TaskBookSchema(Schema):
    targets = fields.List(fields.String(metadata=NOT_PERSONAL,
                                        validate=validate.Length(min=1, max=2000)), required=True,
                          validate=validate.Length(min=1))
    deadline = fields.Date(required=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), required=True, validate=validate.Length(min=1))
    signatories = fields.List(fields.Nested(SignatorySchema), metadata=person(SIGNATORY),
                                            required=True, validate=validate.Length(min=2))

    @validates_schema
    def milestones_before_deadline(self, data, **kwargs):
        late = [m["id"] for m in data.get("milestones", []) if m["due_on"] > data["deadline"]]
        if late:
            raise ValidationError(f"milestones due after the task book's deadline: {', '.join(late)}", "milestones")


class MilestoneReportSchema(Schema):
    summary = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=5000))
    evidence = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")), load_default=list)


class CommissionSchema(Schema):
    evaluator = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=32))


class TargetAssessmentSchema(Schema):
    target = fields.String(metadata=NOT_PERSONAL,
                           required=True, validate=validate.Length(min=1, max=2000))  # as the task book states it
    met = fields.Boolean(required=True)
    finding = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=5000))


class EvaluationSchema(Schema):
    """The third party's evaluation: every target of the task book assessed, a score, a conclusion, the report."""

    assessment = fields.List(fields.Nested(TargetAssessmentSchema), required=True, validate=validate.Length(min=1))
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    conclusion = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=5000))
    report = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")), required=True,
                         validate=validate.Length(min=1))


class SelectionSchema(Schema):
    selected = fields.Boolean(required=True)
    reason = fields.String(metadata=NOT_PERSONAL, load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def reason_when_declined(self, data, **kwargs):
        if not data["selected"] and not data.get("reason"):
            raise ValidationError("a case not selected needs a reason", "reason")


class CriterionSchema(Schema):
    id = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=200))
    max_score = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1000))


class PanelExpertSchema(Schema):
    """One expert: the name is theirs and sealed (shared.domain.panel); the id is their account's subject,
    kept in the clear like every event's actor; the unit and relations are units' credit codes."""

    id = fields.String(metadata=person(ACTOR),
                       required=True, validate=validate.Length(min=1, max=64))  # the expert's token subject
    name = fields.String(metadata=PERSONAL, required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(metadata=NOT_PERSONAL,
                         required=True, validate=validate.Length(min=1, max=32))  # credit code of the expert's unit
    relations = fields.List(fields.String(metadata=NOT_PERSONAL,
                                          validate=validate.Length(min=1, max=32)), load_default=list)


class PanelSchema(Schema):
    call_id = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=64))
    direction = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=64))
    criteria = fields.List(fields.Nested(CriterionSchema), required=True, validate=validate.Length(min=1))
    experts = fields.List(fields.Nested(PanelExpertSchema), metadata=person(EXPERT),
                                        required=True, validate=validate.Length(min=1))


class AssignmentSchema(Schema):
    expert = fields.String(metadata=person(ACTOR), required=True, validate=validate.Length(min=1, max=64))


class DeclarationSchema(Schema):
    conflict = fields.Boolean(required=True)
    relation = fields.String(metadata=person(EXPERT), load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def relation_when_conflict(self, data, **kwargs):
        if data["conflict"] and not data.get("relation"):
            raise ValidationError("a declared conflict of interest names the relation", "relation")


class ScoreSchema(Schema):
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    comment = fields.String(metadata=NOT_PERSONAL, load_default="", validate=validate.Length(max=5000))


class AmendmentSchema(TaskBookSchema):
    amendment_id = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=32))
    reason = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=2000))


class ReportDecisionSchema(Schema):
    accepted = fields.Boolean(required=True)
    note = fields.String(metadata=NOT_PERSONAL, load_default="", validate=validate.Length(max=2000))
    reasons = fields.List(fields.String(metadata=NOT_PERSONAL,
                                        validate=validate.Length(min=1, max=2000)), load_default=list)

    @validates_schema
    def reasons_when_sent_back(self, data, **kwargs):
        if not data["accepted"] and not data.get("reasons"):
            raise ValidationError("a report sent back states at least one reason", "reasons")


class WorkPlanSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    plan = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=20000))
    evidence = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")), load_default=list)


class CompletionSchema(Schema):
    summary = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=20000))
    evidence = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")), load_default=list)


# -- responses ----------------------------------------------------------------------------------


class ReviewCaseSchema(CaseViewSchema):
    """A case on review's desk: the case as every service shows it, with its task book and progress."""

    task_book = fields.Dict(required=True, allow_none=True)  # targets, deadline, milestones, signatories
    amendments = fields.List(fields.String(), required=True)
    completion_declared = fields.Boolean(required=True)
    expert_reviews = fields.Integer(required=True)


class UnitSchema(Schema):
    credit_code = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)  # applicant, lead unit, consortium member


class AssignedCaseSchema(Schema):
    """One case assigned to the calling expert: what it declares on, not the case itself."""

    case_id = fields.String(required=True)
    status = fields.String(required=True)  # assigned, cleared, recused
    assigned_at = fields.String(required=True)
    call_id = fields.String(required=True)
    direction = fields.String(required=True)
    program = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)
    units = fields.List(fields.Nested(UnitSchema), required=True)
    scored = fields.Boolean(required=True)


class PlacesOfKindSchema(Schema):
    limit = fields.Integer(required=True, allow_none=True)  # None: the call sets no limit
    scope = fields.String(required=True, allow_none=True)  # the direction, or "*" for a whole list
    taken = fields.Integer(required=True)
    holders = fields.List(fields.String(), required=True)  # the cases holding a place
    holds_one = fields.Boolean(required=True)  # whether this case holds one


class PlacesSchema(Schema):
    """The limited places a case's shortlist and selection take, counted as the commands count them."""

    case_id = fields.String(required=True)
    call_id = fields.String(required=True)
    program = fields.String(required=True)
    direction = fields.String(required=True, allow_none=True)
    shortlist = fields.Nested(PlacesOfKindSchema, required=True)
    success = fields.Nested(PlacesOfKindSchema, required=True)


class CaseCriteriaSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    max_score = fields.Float(required=True)


class CriteriaSchema(Schema):
    """What an expert scores a case against: the criteria of the panel of its call and direction."""

    case_id = fields.String(required=True)
    call_id = fields.String(required=True)
    direction = fields.String(required=True)
    criteria = fields.List(fields.Nested(CaseCriteriaSchema), required=True)


class PanelSubjectsSchema(Schema):
    panel_id = fields.String(required=True)
    call_id = fields.String(required=True)
    direction = fields.String(required=True)
    subjects = fields.List(fields.Nested(SubjectSchema), required=True)


class PanelErasedSchema(Schema):
    panel_id = fields.String(required=True)
    version = fields.Integer(required=True)
    subjects = fields.List(fields.String(), required=True)
    keys_destroyed = fields.Integer(required=True)

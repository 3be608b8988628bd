"""Request shapes of the ministry's review desk."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class ShortlistSchema(Schema):
    shortlisted = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def reason_when_declined(self, data, **kwargs):
        if not data["shortlisted"] and not data.get("reason"):
            raise ValidationError("a case not shortlisted needs a reason", "reason")


class MilestoneSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_on = fields.Date(required=True)
    deliverable = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    evidence_required = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class SignatorySchema(Schema):
    party = fields.String(required=True, validate=validate.OneOf(["ministry", "cas", "province", "unit"]))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    signed_on = fields.Date(required=True)


class TaskBookSchema(Schema):
    targets = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), required=True,
                          validate=validate.Length(min=1))
    deadline = fields.Date(required=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), required=True, validate=validate.Length(min=1))
    signatories = fields.List(fields.Nested(SignatorySchema), required=True, validate=validate.Length(min=2))

    @validates_schema
    def milestones_before_deadline(self, data, **kwargs):
        late = [m["id"] for m in data.get("milestones", []) if m["due_on"] > data["deadline"]]
        if late:
            raise ValidationError(f"milestones due after the task book's deadline: {', '.join(late)}", "milestones")


class MilestoneReportSchema(Schema):
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    evidence = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")), load_default=list)


class CommissionSchema(Schema):
    evaluator = fields.String(required=True, validate=validate.Length(min=1, max=32))


class EvaluationSchema(Schema):
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    conclusion = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    report = fields.List(fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$")), required=True,
                         validate=validate.Length(min=1))


class SelectionSchema(Schema):
    selected = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def reason_when_declined(self, data, **kwargs):
        if not data["selected"] and not data.get("reason"):
            raise ValidationError("a case not selected needs a reason", "reason")

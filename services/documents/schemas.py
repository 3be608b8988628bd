"""Query parameters and response shapes of the documents API (the files themselves are raw bodies)."""

from marshmallow import Schema, fields

from shared.infra.web.openapi import OpenSchema

# The rules of each value (a path-free file name, a step's spelling, a reason's length) are the
# application's, so that each refusal names them; the query only says what must be there.
FILENAME = fields.String(required=True, metadata={"description": "the file's name, kept as metadata only"})
STEP = fields.String(required=True, metadata={"description": "the case step the evidence is for, e.g. submission"})
REASON = fields.String(required=True, metadata={"description": "why the correction replaces the document"})

UPLOAD_QUERY = {"filename": FILENAME, "step": STEP}
SUPERSEDE_QUERY = {"filename": FILENAME, "step": STEP, "reason": REASON}
DEPOSIT_QUERY = {"filename": FILENAME}


class FiledSchema(Schema):
    """A document filed on a case: stored under its SHA-256 and recorded at `version`."""

    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    filename = fields.String(required=True)
    step = fields.String(required=True)
    stored_now = fields.Boolean(required=True, metadata={"description": "false: these bytes were stored already"})


class FiledCorrectionSchema(FiledSchema):
    supersedes = fields.String(required=True)
    reason = fields.String(required=True)


class DocumentRowSchema(Schema):
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    filename = fields.String(required=True)
    step = fields.String(required=True)
    attached_by = fields.String(required=True)
    attached_at = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["current", "superseded"]})
    superseded_by = fields.String(required=True, allow_none=True)
    superseded_in = fields.Integer(required=True, allow_none=True)
    withheld = fields.Boolean(required=True, metadata={
        "description": "withheld at a data subject's request (PersonalDataErased): listed, never given"})
    supersedes = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)


class DownloadSchema(Schema):
    url = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class DepositSchema(Schema):
    """A document in the unit's dossier, to be named in an application by its SHA-256."""

    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    filename = fields.String(required=True)


class IntegrityCountsSchema(Schema):
    references = fields.Integer(required=True)
    objects = fields.Integer(required=True)
    intact = fields.Integer(required=True)
    missing = fields.Integer(required=True)
    altered = fields.Integer(required=True)


class IntegrityReportSchema(OpenSchema):
    ok = fields.Boolean(required=True)
    counts = fields.Nested(IntegrityCountsSchema, required=True)
    missing = fields.List(fields.Dict(), required=True)
    altered = fields.List(fields.Dict(), required=True)


FILED = FiledSchema()
FILED_CORRECTION = FiledCorrectionSchema()
DOCUMENT_ROW = DocumentRowSchema
INTEGRITY_REPORT = IntegrityReportSchema()

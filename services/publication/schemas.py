"""Request and response shapes of the publication service.

The response schemas of the public routes are also the last whitelist at the HTTP
boundary: marshmallow dumps only the fields declared here, so a field that is not a
public one cannot leave the service even if a query selected it by mistake.
"""

from marshmallow import Schema, fields, validate

from shared.domain.personal import NOT_PERSONAL

CASE_ID = validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                          error="a case id (UUID, lower-case hex)")
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="a SHA-256 digest (64 lower-case hex characters)")


# -- requests --------------------------------------------------------------------------


def _param(description: str) -> fields.String:
    # Declared to be documented, and so that any other parameter is refused; the values are
    # checked by the library with its own rules and messages (one rule, one message).
    return fields.String(metadata={"description": description})


LISTS_QUERY = {
    "kind": _param("shortlist, successful or signature-products"),
    "year": _param("the call's year, e.g. 2024"),
    "call_id": _param("one call's lists"),
}
PRODUCTS_QUERY = {
    "year": _param("the year the product was published, 2000 to 2100"),
    "domain": _param("the product's domain, as the call names it"),
    "type": _param("the product's type, as the call names it"),
    "province": _param("the recommending province's code, e.g. 440000"),
    "name": _param("part of the product's name (at most 200 characters)"),
    "page": _param("the page, from 1 (default 1)"),
    "per_page": _param("products per page, 1 to 100 (default 20)"),
}


class NoticeSchema(Schema):
    """The cases the ministry puts up for public notice, in the list's order."""

    case_ids = fields.List(fields.String(validate=CASE_ID), required=True,
                           validate=validate.Length(min=1, max=2000))


class PublishSchema(Schema):
    """Without a notice: the cases on the list, in order. After a notice: optional, and then
    exactly the entries that remain (a confirmation of what is published)."""

    case_ids = fields.List(fields.String(validate=CASE_ID), load_default=None,
                           validate=validate.Length(min=1, max=2000))


class ObjectionSchema(Schema):
    reasons = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=5000))
    evidence = fields.List(fields.String(metadata=NOT_PERSONAL,
                                         validate=SHA256), load_default=list, validate=validate.Length(max=20))


class ResolutionSchema(Schema):
    upheld = fields.Boolean(required=True)
    resolution = fields.String(metadata=NOT_PERSONAL, required=True, validate=validate.Length(min=1, max=5000))


# -- responses: what the public may read ------------------------------------------------------


class PublicEntrySchema(Schema):
    """One entry of a list: `shared.domain.publication_list.public_fields`, nothing else."""

    position = fields.Integer()
    case_id = fields.String()
    # 标志性产品
    product = fields.String()
    unit = fields.String()
    domain = fields.String()
    type = fields.String()
    # 揭榜挂帅
    direction = fields.String()
    direction_name = fields.String()
    task = fields.String()
    lead_unit = fields.String()
    members = fields.List(fields.String())
    # both
    province = fields.String()
    province_name = fields.String()


class NoticePeriodSchema(Schema):
    starts_on = fields.String()
    ends_on = fields.String()
    working_days = fields.Integer()
    closed_on = fields.String(allow_none=True)


class ListDocumentSchema(Schema):
    list_id = fields.String()
    kind = fields.String()
    call_id = fields.String()
    year = fields.Integer()
    title = fields.String()
    status = fields.String()
    notice = fields.Nested(NoticePeriodSchema, allow_none=True)
    published_at = fields.String(allow_none=True)
    entries = fields.List(fields.Nested(PublicEntrySchema))


class ListSummarySchema(Schema):
    list_id = fields.String()
    kind = fields.String()
    call_id = fields.String()
    year = fields.Integer()
    title = fields.String()
    status = fields.String()
    notice = fields.Nested(NoticePeriodSchema, allow_none=True)
    published_at = fields.String(allow_none=True)
    entry_count = fields.Integer()
    href = fields.String()


class ProductSchema(Schema):
    """A product of the library (标志性产品库): its public fields and where it was published."""

    case_id = fields.String()
    product = fields.String()
    unit = fields.String()
    domain = fields.String()
    type = fields.String()
    province = fields.String()
    province_name = fields.String()
    year = fields.Integer()
    list_id = fields.String()
    position = fields.Integer()
    published_at = fields.String()
    href = fields.String()


class ProductPageSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(ProductSchema))


# -- responses: the ministry and objectors ------------------------------------------------------


class ObjectionViewSchema(Schema):
    objection_id = fields.String()
    list_id = fields.String(allow_none=True)
    case_id = fields.String()
    raised_by = fields.String()
    raised_by_org = fields.String()
    raised_by_role = fields.String()
    reasons = fields.String()
    evidence = fields.List(fields.String())
    raised_at = fields.String()
    status = fields.String()
    resolution = fields.String(allow_none=True)
    resolved_at = fields.String(allow_none=True)

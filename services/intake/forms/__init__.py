"""The application forms (申请表) applicants fill in, as marshmallow schemas.

`signature_product_schema(domains, types)` gives the 生物制造标志性产品申请表 of one
call; `SAMPLE_SIGNATURE_PRODUCT_APPLICATION` is a complete valid example.
"""

from services.intake.forms.signature_product import (
    NOTICE_2024_DOMAINS,
    NOTICE_2024_TYPES,
    SAMPLE_SIGNATURE_PRODUCT_APPLICATION,
    SignatureProductApplication,
    signature_product_schema,
)

__all__ = [
    "NOTICE_2024_DOMAINS",
    "NOTICE_2024_TYPES",
    "SAMPLE_SIGNATURE_PRODUCT_APPLICATION",
    "SignatureProductApplication",
    "signature_product_schema",
]

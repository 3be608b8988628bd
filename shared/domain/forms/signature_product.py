"""The 生物制造标志性产品申请表 (signature product application form), every field and rule.

Source: 工信厅消费函〔2024〕382号, 附件1 (seed `003_fea8e18c90f56e0f.txt`). The form has a
cover and four parts; the applicant fills the cover and parts 一 to 三:

    cover        封面: applicant name (sealed), two contacts, submission date
    applicant    一、申请单位信息    (`signature_product_applicant`)
    product      二、申请产品情况    (`signature_product_details`)
    declaration  三、申请单位声明    (`signature_product_applicant`)

Part 四 (工业和信息化主管部门意见, the authority's opinion, sealed and dated) is
written by the authority, not the applicant: it is not in this schema, and an
applicant who sends it is refused (unknown field).

Rules (填报须知 二): every field is required unless the form marks it optional
("无可不填"); boxes that ask for 证明材料 need at least one evidence document. The
call fixes the domains (征集领域) and types (征集类型) it accepts: build the schema
with `signature_product_schema(domains, types)` (or
`SignatureProductApplication(domains=..., types=...)`); without them it takes the
2024 notice's lists.

Loading gives `str`, `int`, `bool`, `decimal.Decimal` and `datetime.date` values;
`schema.dump(loaded)` gives the JSON form back (decimals as strings).
`shared.domain.forms.samples.SAMPLE_SIGNATURE_PRODUCT_APPLICATION` is a complete valid example.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.domain.forms.fields import Section
from shared.domain.forms.parts import FormSection
from shared.domain.forms.signature_product_applicant import (
    SignatureProductApplicant,
    SignatureProductCover,
    SignatureProductDeclaration,
)
from shared.domain.forms.signature_product_details import (
    NOTICE_2024_DOMAINS,
    NOTICE_2024_TYPES,
    OTHER_DOMAIN,
    SignatureProductDetails,
    call_options,
)


class SignatureProductApplication(FormSection):
    """生物制造标志性产品申请表: `cover`, `applicant`, `product`, `declaration`.

    Part 四, the authority's opinion (工业和信息化主管部门意见), is filled by the
    authority and is not part of the applicant's form.

    `domains` and `types` are the call's 征集领域 and 征集类型 (default: the 2024
    notice's); `product.domain` and `product.type` must be among them. Choosing one
    of `free_text_domains` (default "其他") requires `product.domain_other`.
    """

    cover = Section(SignatureProductCover)
    applicant = Section(SignatureProductApplicant)
    product = Section(SignatureProductDetails)
    declaration = Section(SignatureProductDeclaration)

    def __init__(self, *, domains: Iterable[str] | None = None, types: Iterable[str] | None = None,
                 free_text_domains: Iterable[str] | None = None, **kwargs: Any):
        self.domains = call_options("domains", domains, NOTICE_2024_DOMAINS)
        self.types = call_options("types", types, NOTICE_2024_TYPES)
        self.free_text_domains = call_options("free_text_domains", free_text_domains, (OTHER_DOMAIN,),
                                              may_be_empty=True)
        super().__init__(**kwargs)

    def on_bind_field(self, field_name: str, field_obj: Any) -> None:
        if field_name == "product":
            field_obj.nested = SignatureProductDetails(
                domains=self.domains, types=self.types, free_text_domains=self.free_text_domains)


def signature_product_schema(domains: Iterable[str], types: Iterable[str], *,
                             free_text_domains: Iterable[str] | None = None) -> SignatureProductApplication:
    """The application form of one call, accepting that call's domains and types.

    `free_text_domains` are the domains that ask the applicant to name the domain in
    words (`product.domain_other`); by default "其他".
    """
    return SignatureProductApplication(domains=domains, types=types, free_text_domains=free_text_domains)

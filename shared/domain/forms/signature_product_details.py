"""二、申请产品情况 of the 生物制造标志性产品申请表: the product, its equipment, IP and standards.

Source: 工信厅消费函〔2024〕382号, 附件1 (seed `003_fea8e18c90f56e0f.txt`); the whole form
is `shared.domain.forms.signature_product`. The call fixes the domains (征集领域) and
types (征集类型) a product may name; without them the part takes the 2024 notice's lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from marshmallow import ValidationError, validates, validates_schema

from shared.domain.forms.fields import Amount, Code, Day, Listing, Section, Text, YesNo, entries
from shared.domain.forms.identifiers import evidence
from shared.domain.forms.messages import EVIDENCE_REQUIRED, REQUIRED, bilingual, one_of_message
from shared.domain.forms.parts import FormSection, RuleErrors, is_blank
from shared.domain.personal import NOT_PERSONAL

# -- the options the form offers ----------------------------------------------------

NOTICE_2024_DOMAINS: tuple[str, ...] = (
    "食品及添加剂", "生物制药", "化妆品", "生物基化学品", "生物能源", "生物基材料",
    "酶制剂", "天然产物生物合成", "专用设备及材料", "其他",
)
"""征集领域 of the 2024 notice; "其他" asks for the domain in words (`domain_other`)."""

NOTICE_2024_TYPES: tuple[str, ...] = ("重大创新型", "关键提升型", "规模替代型")
"""征集类型 of the 2024 notice."""

OTHER_DOMAIN = "其他"

MARKET_SHARE_RANKS: dict[str, str] = {"top_3": "前3", "top_10": "前10", "other": "其他"}
"""占全国同类产品市场份额."""

PRODUCT_STAGES: dict[str, str] = {
    "mass_production": "已实现规模化生产",
    "early_commercial": "尚处商业化早期",
}
"""The notice's two kinds of product (二、(二)); an early-commercial one must have passed pilot verification."""

IP_KINDS: dict[str, str] = {
    "invention_patent": "发明专利",
    "utility_model": "实用新型专利",
    "design_patent": "外观设计专利",
    "software_copyright": "计算机软件著作权",
    "trademark": "商标权",
    "other": "其它",
}
"""知识产权类别; "other" asks for the kind in words (`kind_other`)."""

STANDARD_LEVELS: dict[str, str] = {"national": "国家", "industry": "行业", "local": "地方"}
"""标准类别."""

EQUIPMENT_CATEGORIES: dict[str, str] = {
    "raw_material_processing": "原料处理设备",
    "fermentation": "发酵设备",
    "separation_purification": "分离纯化设备",
    "testing": "检验检测设备",
    "other": "其他设备",
}
"""使用主要设备情况: one numbered list per category; each entry is one free-text line."""

HIGHLIGHTS_MAX = 100
TECHNICAL_PROCESS_MAX = 1000
ADVANCEMENT_MAX = 500
MARKET_AND_SALES_MAX = 300
APPLICATION_PROSPECTS_MAX = 300
IP_NOTE_MAX = 300
STANDARDS_NOTE_MAX = 300


class SignatureProductEquipment(FormSection):
    """使用主要设备情况: a numbered list per category, each entry one line (as the form's table has it).

    Every category is on the form (send `[]` for one without equipment); the table as
    a whole must list at least one piece of equipment.
    """

    raw_material_processing = Listing(Text(metadata=NOT_PERSONAL))
    fermentation = Listing(Text(metadata=NOT_PERSONAL))
    separation_purification = Listing(Text(metadata=NOT_PERSONAL))
    testing = Listing(Text(metadata=NOT_PERSONAL))
    other = Listing(Text(metadata=NOT_PERSONAL))

    @validates_schema(skip_on_field_errors=False)
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        present = [data[key] for key in EQUIPMENT_CATEGORIES if key in data]
        if len(present) == len(EQUIPMENT_CATEGORIES) and not any(present):
            raise ValidationError(bilingual("至少填写一台主要设备", "list at least one piece of main equipment"))


class SignatureProductIpItem(FormSection):
    """知识产权情况, one row: 名称, 类别, 批准机构, 批准时间."""

    name = Text(metadata=NOT_PERSONAL)
    kind = Code(IP_KINDS)
    kind_other = Text(required=False, metadata=NOT_PERSONAL)
    """Required when `kind` is "other" (其它____)."""
    granted_by = Text(metadata=NOT_PERSONAL)
    granted_on = Day()

    @validates_schema(skip_on_field_errors=False)
    def _other_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("kind") == "other" and is_blank(data, "kind_other"):
            raise ValidationError({"kind_other": [REQUIRED]})


class SignatureProductStandardItem(FormSection):
    """现行有效标准情况, one row: 标准名称, 标准编号, 标准类别."""

    name = Text(metadata=NOT_PERSONAL)
    number = Text(metadata=NOT_PERSONAL)
    level = Code(STANDARD_LEVELS)


def call_options(name: str, options: Iterable[str] | None, default: Sequence[str], *,
                 may_be_empty: bool = False) -> tuple[str, ...]:
    """A call's list of options (`name` for the error), checked; `default` when the call gives none."""
    if options is None:
        return tuple(default)
    if isinstance(options, str):
        raise TypeError(f"{name} must be a list of strings, not one string")
    checked = tuple(options)
    if (not checked and not may_be_empty) or not all(isinstance(o, str) and o.strip() for o in checked):
        raise ValueError(f"{name} must be a non-empty list of non-blank strings, got {checked!r}")
    return checked


class SignatureProductDetails(FormSection):
    """二、申请产品情况. `domains` and `types` are the call's (征集领域, 征集类型)."""

    name = Text(metadata=NOT_PERSONAL)
    domain = Text(metadata=NOT_PERSONAL)
    domain_other = Text(required=False, metadata=NOT_PERSONAL)
    """Required when `domain` is a free-text one ("其他", or the call's `free_text_domains`)."""
    type = Text(metadata=NOT_PERSONAL)
    innovation_highlights = Text(HIGHLIGHTS_MAX, metadata=NOT_PERSONAL)
    """产品创新亮点和优势."""
    stage = Code(PRODUCT_STAGES)
    """Mass-produced or early-commercial; an early-commercial product describes `pilot_verification`."""
    needs_admin_licence = YesNo(required=True)
    """是否涉及特殊注册、许可或备案等前置行政许可手续; when true, category, number and evidence are required."""
    admin_licence_category = Text(required=False, metadata=NOT_PERSONAL)
    admin_licence_number = Text(required=False, metadata=NOT_PERSONAL)
    """证书号或批准文号."""
    admin_licence_evidence = evidence(required=False)
    output_last_year_tonnes = Amount()
    market_share_rank = Code(MARKET_SHARE_RANKS)
    domestic_market_share_percent = Amount(0, 100)
    exports = YesNo(required=True)
    export_volume_last_year_tonnes = Amount(required=False)
    """上年度出口量: optional (无可不填)."""
    technical_process = Text(TECHNICAL_PROCESS_MAX, metadata=NOT_PERSONAL)
    """技术工艺概述: raw materials, chassis cells, main process, main equipment, qualifications."""
    equipment = Section(SignatureProductEquipment)
    advancement_and_competitiveness = Text(ADVANCEMENT_MAX, metadata=NOT_PERSONAL)
    """产品先进性和核心竞争力."""
    market_and_sales = Text(MARKET_AND_SALES_MAX, metadata=NOT_PERSONAL)
    """市场销售情况."""
    application_prospects = Text(APPLICATION_PROSPECTS_MAX, metadata=NOT_PERSONAL)
    """产品应用前景."""
    pilot_verification = Text(APPLICATION_PROSPECTS_MAX, required=False, metadata=NOT_PERSONAL)
    """已完成的产品化验证情况: required for an early-commercial product. It is written in the
    application-prospects box, so the two together are at most 300 characters."""
    ip_items = entries(SignatureProductIpItem, minimum=1)
    """The applicant must own the product's IP (二、(四)): at least one row."""
    ip_note = Text(IP_NOTE_MAX, metadata=NOT_PERSONAL)
    ip_evidence = evidence()
    standards = entries(SignatureProductStandardItem, minimum=1)
    standards_note = Text(STANDARDS_NOTE_MAX, metadata=NOT_PERSONAL)
    standards_evidence = evidence()

    def __init__(self, *, domains: Iterable[str] | None = None, types: Iterable[str] | None = None,
                 free_text_domains: Iterable[str] | None = None, **kwargs: Any):
        self.domains = call_options("domains", domains, NOTICE_2024_DOMAINS)
        self.types = call_options("types", types, NOTICE_2024_TYPES)
        self.free_text_domains = call_options("free_text_domains", free_text_domains, (OTHER_DOMAIN,),
                                              may_be_empty=True)
        super().__init__(**kwargs)
        # Documented as the choices they are (the checks below enforce them): a client reads
        # the call's own domains and types from the form's JSON Schema.
        for name, choices in (("domain", self.domains), ("type", self.types)):
            self.fields[name].metadata = {**self.fields[name].metadata, "enum": list(choices)}

    @validates("domain")
    def _domain_of_the_call(self, value: str, **kwargs: Any) -> None:
        if value not in self.domains:
            raise ValidationError(one_of_message(self.domains))

    @validates("type")
    def _type_of_the_call(self, value: str, **kwargs: Any) -> None:
        if value not in self.types:
            raise ValidationError(one_of_message(self.types))

    @validates_schema(skip_on_field_errors=False)
    def _conditional_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = RuleErrors()
        if data.get("domain") in self.free_text_domains and is_blank(data, "domain_other"):
            errors.add("domain_other", REQUIRED)
        if data.get("needs_admin_licence") is True:
            for key in ("admin_licence_category", "admin_licence_number"):
                if is_blank(data, key):
                    errors.add(key, bilingual("涉及前置行政许可时必填",
                                              "required when a prior administrative licence applies"))
            if is_blank(data, "admin_licence_evidence"):
                errors.add("admin_licence_evidence", EVIDENCE_REQUIRED)
        if data.get("stage") == "early_commercial" and is_blank(data, "pilot_verification"):
            errors.add("pilot_verification", bilingual(
                "商业化早期产品须说明已完成的产品化（中试）验证情况",
                "required for an early-commercial product: describe its completed pilot verification"))
        prospects, pilot = data.get("application_prospects"), data.get("pilot_verification")
        if prospects and pilot and len(prospects) + len(pilot) > APPLICATION_PROSPECTS_MAX:
            total = len(prospects) + len(pilot)
            errors.add("pilot_verification", bilingual(
                f"与产品应用前景合计不得超过{APPLICATION_PROSPECTS_MAX}字（现为{total}字）",
                f"together with application_prospects at most {APPLICATION_PROSPECTS_MAX} characters ({total} given)",
            ))
        errors.raise_if_any()

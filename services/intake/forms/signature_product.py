"""The 生物制造标志性产品申请表 (signature product application form), every field and rule.

Source: 工信厅消费函〔2024〕382号, 附件1 (seed `003_fea8e18c90f56e0f.txt`). The form has a
cover and four parts; the applicant fills the cover and parts 一 to 三:

    cover        封面: applicant name (sealed), two contacts, submission date
    applicant    一、申请单位信息
    product      二、申请产品情况
    declaration  三、申请单位声明

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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from marshmallow import ValidationError, validates, validates_schema
from stdnum.cn import uscc

from services.intake.forms.common import (
    EVIDENCE_REQUIRED,
    REQUIRED,
    Amount,
    Code,
    Confirmed,
    Count,
    CreditCode,
    Day,
    DocumentRef,
    EmailAddress,
    FormSection,
    Listing,
    Mobile,
    RuleErrors,
    Section,
    Text,
    YesNo,
    at_most_field_message,
    bilingual,
    entries,
    sample_evidence,
    evidence,
    is_blank,
    one_of_message,
)

# -- the options the form offers ----------------------------------------------------

NOTICE_2024_DOMAINS: tuple[str, ...] = (
    "食品及添加剂", "生物制药", "化妆品", "生物基化学品", "生物能源", "生物基材料",
    "酶制剂", "天然产物生物合成", "专用设备及材料", "其他",
)
"""征集领域 of the 2024 notice; "其他" asks for the domain in words (`domain_other`)."""

NOTICE_2024_TYPES: tuple[str, ...] = ("重大创新型", "关键提升型", "规模替代型")
"""征集类型 of the 2024 notice."""

OTHER_DOMAIN = "其他"

UNIT_NATURES: dict[str, str] = {
    "central_soe": "中央企业",
    "local_soe": "地方国有企业",
    "private": "民营企业",
    "joint_venture": "合资企业",
    "public_institution": "事业单位",
    "other": "其他",
}
"""单位性质; "other" asks for the nature in words (`unit_nature_other`)."""

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

PROFILE_MAX = 500
HIGHLIGHTS_MAX = 100
TECHNICAL_PROCESS_MAX = 1000
ADVANCEMENT_MAX = 500
MARKET_AND_SALES_MAX = 300
APPLICATION_PROSPECTS_MAX = 300
IP_NOTE_MAX = 300
STANDARDS_NOTE_MAX = 300

# -- cover ----------------------------------------------------------------------------


class SignatureProductContact(FormSection):
    """联系人: name, post (职务), mobile (手机), email (电子邮箱)."""

    name = Text()
    post = Text()
    mobile = Mobile()
    email = EmailAddress()


class SignatureProductCover(FormSection):
    """封面."""

    applicant_name = Text()
    seal = DocumentRef()
    """The sealed cover (加盖公章): the document holding it."""
    contact_1 = Section(SignatureProductContact)
    contact_2 = Section(SignatureProductContact)
    submitted_on = Day()
    """报送日期."""


# -- 一、申请单位信息 --------------------------------------------------------------------------


class SignatureProductApplicant(FormSection):
    """一、申请单位信息. Money in 10k CNY (万元); revenue and R&D spending are the last fiscal year's."""

    full_name = Text()
    industry_class = Text()
    """所属大类行业."""
    legal_representative = Text()
    registered_capital_10k_cny = Amount()
    address = Text()
    credit_code = CreditCode()
    """统一社会信用代码 (the form's box reads 组织机构代码/社会信用代码; the 18-character code is asked for)."""
    unit_nature = Code(UNIT_NATURES)
    unit_nature_other = Text(required=False)
    """Required when `unit_nature` is "other"."""
    listed = YesNo(required=True)
    """是否上市公司; when true, `stock_code`, `stock_exchange` and `listed_on` are required."""
    stock_code = Text(required=False)
    stock_exchange = Text(required=False)
    """上市地点."""
    listed_on = Day(required=False)
    """上市时间."""
    main_business_revenue_10k_cny = Amount()
    main_business_revenue_evidence = evidence()
    rd_spending_10k_cny = Amount()
    """研发投入."""
    rd_spending_evidence = evidence()
    staff_count = Count()
    rd_staff_count = Count()
    """研发人员人数, at most `staff_count`."""
    profile = Text(PROFILE_MAX)
    """单位简介."""
    profile_evidence = evidence()

    @validates_schema(skip_on_field_errors=False)
    def _conditional_rules(self, data: dict, **kwargs: Any) -> None:
        errors = RuleErrors()
        if data.get("unit_nature") == "other" and is_blank(data, "unit_nature_other"):
            errors.add("unit_nature_other", REQUIRED)
        if data.get("listed") is True:
            for key in ("stock_code", "stock_exchange", "listed_on"):
                if is_blank(data, key):
                    errors.add(key, bilingual("上市公司必填", "required for a listed company"))
        staff, rd_staff = data.get("staff_count"), data.get("rd_staff_count")
        if staff is not None and rd_staff is not None and rd_staff > staff:
            errors.add("rd_staff_count", at_most_field_message("单位人数", "staff_count"))
        errors.raise_if_any()


# -- 二、申请产品情况 ---------------------------------------------------------------------------


class SignatureProductEquipment(FormSection):
    """使用主要设备情况: a numbered list per category, each entry one line (as the form's table has it).

    Every category is on the form (send `[]` for one without equipment); the table as
    a whole must list at least one piece of equipment.
    """

    raw_material_processing = Listing(Text())
    fermentation = Listing(Text())
    separation_purification = Listing(Text())
    testing = Listing(Text())
    other = Listing(Text())

    @validates_schema(skip_on_field_errors=False)
    def _not_empty(self, data: dict, **kwargs: Any) -> None:
        present = [data[key] for key in EQUIPMENT_CATEGORIES if key in data]
        if len(present) == len(EQUIPMENT_CATEGORIES) and not any(present):
            raise ValidationError(bilingual("至少填写一台主要设备", "list at least one piece of main equipment"))


class SignatureProductIpItem(FormSection):
    """知识产权情况, one row: 名称, 类别, 批准机构, 批准时间."""

    name = Text()
    kind = Code(IP_KINDS)
    kind_other = Text(required=False)
    """Required when `kind` is "other" (其它____)."""
    granted_by = Text()
    granted_on = Day()

    @validates_schema(skip_on_field_errors=False)
    def _other_kind(self, data: dict, **kwargs: Any) -> None:
        if data.get("kind") == "other" and is_blank(data, "kind_other"):
            raise ValidationError({"kind_other": [REQUIRED]})


class SignatureProductStandardItem(FormSection):
    """现行有效标准情况, one row: 标准名称, 标准编号, 标准类别."""

    name = Text()
    number = Text()
    level = Code(STANDARD_LEVELS)


def _checked_options(name: str, options: Iterable[str] | None, default: Sequence[str], *,
                     may_be_empty: bool = False) -> tuple[str, ...]:
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

    name = Text()
    domain = Text()
    domain_other = Text(required=False)
    """Required when `domain` is a free-text one ("其他", or the call's `free_text_domains`)."""
    type = Text()
    innovation_highlights = Text(HIGHLIGHTS_MAX)
    """产品创新亮点和优势."""
    stage = Code(PRODUCT_STAGES)
    """Mass-produced or early-commercial; an early-commercial product describes `pilot_verification`."""
    needs_admin_licence = YesNo(required=True)
    """是否涉及特殊注册、许可或备案等前置行政许可手续; when true, category, number and evidence are required."""
    admin_licence_category = Text(required=False)
    admin_licence_number = Text(required=False)
    """证书号或批准文号."""
    admin_licence_evidence = evidence(required=False)
    output_last_year_tonnes = Amount()
    market_share_rank = Code(MARKET_SHARE_RANKS)
    domestic_market_share_percent = Amount(0, 100)
    exports = YesNo(required=True)
    export_volume_last_year_tonnes = Amount(required=False)
    """上年度出口量: optional (无可不填)."""
    technical_process = Text(TECHNICAL_PROCESS_MAX)
    """技术工艺概述: raw materials, chassis cells, main process, main equipment, qualifications."""
    equipment = Section(SignatureProductEquipment)
    advancement_and_competitiveness = Text(ADVANCEMENT_MAX)
    """产品先进性和核心竞争力."""
    market_and_sales = Text(MARKET_AND_SALES_MAX)
    """市场销售情况."""
    application_prospects = Text(APPLICATION_PROSPECTS_MAX)
    """产品应用前景."""
    pilot_verification = Text(APPLICATION_PROSPECTS_MAX, required=False)
    """已完成的产品化验证情况: required for an early-commercial product. It is written in the
    application-prospects box, so the two together are at most 300 characters."""
    ip_items = entries(SignatureProductIpItem, minimum=1)
    """The applicant must own the product's IP (二、(四)): at least one row."""
    ip_note = Text(IP_NOTE_MAX)
    ip_evidence = evidence()
    standards = entries(SignatureProductStandardItem, minimum=1)
    standards_note = Text(STANDARDS_NOTE_MAX)
    standards_evidence = evidence()

    def __init__(self, *, domains: Iterable[str] | None = None, types: Iterable[str] | None = None,
                 free_text_domains: Iterable[str] | None = None, **kwargs: Any):
        self.domains = _checked_options("domains", domains, NOTICE_2024_DOMAINS)
        self.types = _checked_options("types", types, NOTICE_2024_TYPES)
        self.free_text_domains = _checked_options("free_text_domains", free_text_domains, (OTHER_DOMAIN,),
                                                  may_be_empty=True)
        super().__init__(**kwargs)

    @validates("domain")
    def _domain_of_the_call(self, value: str, **kwargs: Any) -> None:
        if value not in self.domains:
            raise ValidationError(one_of_message(self.domains))

    @validates("type")
    def _type_of_the_call(self, value: str, **kwargs: Any) -> None:
        if value not in self.types:
            raise ValidationError(one_of_message(self.types))

    @validates_schema(skip_on_field_errors=False)
    def _conditional_rules(self, data: dict, **kwargs: Any) -> None:
        errors = RuleErrors()
        if data.get("domain") in self.free_text_domains and is_blank(data, "domain_other"):
            errors.add("domain_other", REQUIRED)
        if data.get("needs_admin_licence") is True:
            for key in ("admin_licence_category", "admin_licence_number"):
                if is_blank(data, key):
                    errors.add(key, bilingual("涉及前置行政许可时必填", "required when a prior administrative licence applies"))
            if is_blank(data, "admin_licence_evidence"):
                errors.add("admin_licence_evidence", EVIDENCE_REQUIRED)
        if data.get("stage") == "early_commercial":
            if is_blank(data, "pilot_verification"):
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


# -- 三、申请单位声明 ---------------------------------------------------------------------------


class SignatureProductDeclaration(FormSection):
    """三、申请单位声明: the three statements, each confirmed; sealed (盖章) and dated."""

    applicant_name = Text()
    """The unit's name written into "（申请单位）郑重声明"."""
    no_major_accident_or_environmental_violation = Confirmed()
    """本单位近三年内未出现重大事故，无环境违法记录."""
    no_violation_in_centrally_funded_projects = Confirmed()
    """涉及中央财政资金支持的项目在绩效评价、监督检查中未出现违法违规行为."""
    materials_true_and_complete = Confirmed()
    """本次报送的所有材料均真实、完整，如有不实，愿承担相应责任."""
    seal = DocumentRef()
    """The sealed declaration page: the document holding it."""
    sealed_on = Day()


# -- the whole form ----------------------------------------------------------------------------


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
        self.domains = _checked_options("domains", domains, NOTICE_2024_DOMAINS)
        self.types = _checked_options("types", types, NOTICE_2024_TYPES)
        self.free_text_domains = _checked_options("free_text_domains", free_text_domains, (OTHER_DOMAIN,),
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


# -- a complete, valid example ------------------------------------------------------------------


def _sample_digest(label: str) -> str:
    return sample_evidence(label)


_SAMPLE_CREDIT_CODE_BASE = "91420100MA4K12345"  # registration authority 9, enterprise 1, Wuhan 420100
SAMPLE_CREDIT_CODE = _SAMPLE_CREDIT_CODE_BASE + uscc.calc_check_digit(_SAMPLE_CREDIT_CODE_BASE)
SAMPLE_APPLICANT_NAME = "SAMPLE 示例生物制造科技有限公司（样例单位）"

SAMPLE_SIGNATURE_PRODUCT_APPLICATION: dict[str, Any] = {
    "cover": {
        "applicant_name": SAMPLE_APPLICANT_NAME,
        "seal": _sample_digest("cover seal"),
        "contact_1": {
            "name": "SAMPLE 张样例", "post": "SAMPLE 项目经理",
            "mobile": "13800138000", "email": "contact1@sample.example.com",
        },
        "contact_2": {
            "name": "SAMPLE 李示例", "post": "SAMPLE 研发总监",
            "mobile": "13900139000", "email": "contact2@sample.example.com",
        },
        "submitted_on": "2024-11-15",
    },
    "applicant": {
        "full_name": SAMPLE_APPLICANT_NAME,
        "industry_class": "SAMPLE C26 化学原料和化学制品制造业",
        "legal_representative": "SAMPLE 王样例",
        "registered_capital_10k_cny": "5000",
        "address": "SAMPLE 湖北省武汉市示例区样例路1号",
        "credit_code": SAMPLE_CREDIT_CODE,
        "unit_nature": "private",
        "unit_nature_other": None,
        "listed": False,
        "stock_code": None,
        "stock_exchange": None,
        "listed_on": None,
        "main_business_revenue_10k_cny": "32000.5",
        "main_business_revenue_evidence": [_sample_digest("audited revenue 2023")],
        "rd_spending_10k_cny": "2100",
        "rd_spending_evidence": [_sample_digest("R&D spending 2023")],
        "staff_count": 320,
        "rd_staff_count": 58,
        "profile": "SAMPLE 样例单位简介：本单位为示例用虚构企业，成立于2015年，主营生物基材料的研发与生产。",
        "profile_evidence": [_sample_digest("business licence"), _sample_digest("awards")],
    },
    "product": {
        "name": "SAMPLE 发酵法生物基样例材料",
        "domain": "生物基材料",
        "domain_other": None,
        "type": "规模替代型",
        "innovation_highlights": "SAMPLE 以非粮原料发酵生产，替代石化路线，成本与碳排放均较低（示例）。",
        "stage": "mass_production",
        "needs_admin_licence": False,
        "admin_licence_category": None,
        "admin_licence_number": None,
        "admin_licence_evidence": [],
        "output_last_year_tonnes": "12000",
        "market_share_rank": "top_3",
        "domestic_market_share_percent": "18.5",
        "exports": True,
        "export_volume_last_year_tonnes": "1500",
        "technical_process": "SAMPLE 原料为秸秆糖；底盘细胞为示例工程菌株；主要工艺为连续发酵与膜分离（示例）。",
        "equipment": {
            "raw_material_processing": ["SAMPLE 预处理反应釜 50m³ × 2"],
            "fermentation": ["SAMPLE 发酵罐 200m³ × 6", "SAMPLE 种子罐 20m³ × 2"],
            "separation_purification": ["SAMPLE 陶瓷膜过滤系统 × 1"],
            "testing": ["SAMPLE 高效液相色谱仪 × 2"],
            "other": [],
        },
        "advancement_and_competitiveness": "SAMPLE 示例：产率高于传统路线，核心要素为自主底盘细胞。",
        "market_and_sales": "SAMPLE 示例：主要用于包装材料，近三年销售收入逐年增长。",
        "application_prospects": "SAMPLE 示例：预计国内市场规模持续扩大。",
        "pilot_verification": None,
        "ip_items": [
            {"name": "SAMPLE 一种样例材料的发酵生产方法", "kind": "invention_patent", "kind_other": None,
             "granted_by": "国家知识产权局", "granted_on": "2022-03-18"},
            {"name": "SAMPLE 样例发酵控制软件V1.0", "kind": "software_copyright", "kind_other": None,
             "granted_by": "中国版权保护中心", "granted_on": "2023-06-01"},
            {"name": "SAMPLE 样例商标", "kind": "trademark", "kind_other": None,
             "granted_by": "国家知识产权局商标局", "granted_on": "2021-09-30"},
        ],
        "ip_note": "SAMPLE 示例：本单位拥有上述知识产权，无纠纷。",
        "ip_evidence": [_sample_digest("patent certificates")],
        "standards": [
            {"name": "SAMPLE 样例生物基材料", "number": "SAMPLE QB/T 0000-2024", "level": "industry"},
        ],
        "standards_note": "SAMPLE 示例：本单位参与制定上述行业标准。",
        "standards_evidence": [_sample_digest("standard text")],
    },
    "declaration": {
        "applicant_name": SAMPLE_APPLICANT_NAME,
        "no_major_accident_or_environmental_violation": True,
        "no_violation_in_centrally_funded_projects": True,
        "materials_true_and_complete": True,
        "seal": _sample_digest("declaration seal"),
        "sealed_on": "2024-11-15",
    },
}
"""A complete valid application of an invented unit; every text says SAMPLE."""

"""The applicant's parts of the 生物制造标志性产品申请表: the cover, 一、申请单位信息 and 三、申请单位声明.

Source: 工信厅消费函〔2024〕382号, 附件1 (seed `003_fea8e18c90f56e0f.txt`); the whole form
is `shared.domain.forms.signature_product`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from shared.domain.forms.fields import Amount, Code, Confirmed, Count, Day, Section, Text, YesNo
from shared.domain.forms.identifiers import CreditCode, DocumentRef, EmailAddress, Mobile, evidence
from shared.domain.forms.messages import REQUIRED, at_most_field_message, bilingual
from shared.domain.forms.parts import FormSection, RuleErrors, is_blank
from shared.domain.personal import CONTACT, LEGAL_REPRESENTATIVE, NOT_PERSONAL, PERSONAL, person

UNIT_NATURES: dict[str, str] = {
    "central_soe": "中央企业",
    "local_soe": "地方国有企业",
    "private": "民营企业",
    "joint_venture": "合资企业",
    "public_institution": "事业单位",
    "other": "其他",
}
"""单位性质; "other" asks for the nature in words (`unit_nature_other`)."""

PROFILE_MAX = 500

# -- cover ----------------------------------------------------------------------------


class SignatureProductContact(FormSection):
    """联系人: name, post (职务), mobile (手机), email (电子邮箱): one person's data, all of it."""

    name = Text(metadata=PERSONAL)
    post = Text(metadata=PERSONAL)
    mobile = Mobile(metadata=PERSONAL)
    email = EmailAddress(metadata=PERSONAL)


class SignatureProductCover(FormSection):
    """封面."""

    applicant_name = Text(metadata=NOT_PERSONAL)
    seal = DocumentRef()
    """The sealed cover (加盖公章): the document holding it."""
    contact_1 = Section(SignatureProductContact, metadata=person(CONTACT))
    contact_2 = Section(SignatureProductContact, metadata=person(CONTACT))
    submitted_on = Day()
    """报送日期."""


# -- 一、申请单位信息 --------------------------------------------------------------------------


class SignatureProductApplicant(FormSection):
    """一、申请单位信息. Money in 10k CNY (万元); revenue and R&D spending are the last fiscal year's."""

    full_name = Text(metadata=NOT_PERSONAL)
    industry_class = Text(metadata=NOT_PERSONAL)
    """所属大类行业."""
    legal_representative = Text(metadata=person(LEGAL_REPRESENTATIVE))
    """法定代表人: a person's name."""
    registered_capital_10k_cny = Amount()
    address = Text(metadata=NOT_PERSONAL)
    credit_code = CreditCode()
    """统一社会信用代码 (the form's box reads 组织机构代码/社会信用代码; the 18-character code is asked for)."""
    unit_nature = Code(UNIT_NATURES)
    unit_nature_other = Text(required=False, metadata=NOT_PERSONAL)
    """Required when `unit_nature` is "other"."""
    listed = YesNo(required=True)
    """是否上市公司; when true, `stock_code`, `stock_exchange` and `listed_on` are required."""
    stock_code = Text(required=False, metadata=NOT_PERSONAL)
    stock_exchange = Text(required=False, metadata=NOT_PERSONAL)
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
    profile = Text(PROFILE_MAX, metadata=NOT_PERSONAL)
    """单位简介."""
    profile_evidence = evidence()

    @validates_schema(skip_on_field_errors=False)
    def _conditional_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
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


# -- 三、申请单位声明 ---------------------------------------------------------------------------


class SignatureProductDeclaration(FormSection):
    """三、申请单位声明: the three statements, each confirmed; sealed (盖章) and dated."""

    applicant_name = Text(metadata=NOT_PERSONAL)
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

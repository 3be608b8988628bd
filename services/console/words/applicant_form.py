"""Words of the applicant_form pages: the page itself, and the application forms' labels.

A field's label is `form.<schema component>.<property>` or, where the name means one thing
wherever it appears, `form.<property>`; option labels are `form.option.<code>`. The codes'
Chinese names are the domain's own (shared.domain.forms), so the form says what the notice says.
"""

from shared.domain.forms.open_competition import DECLARATIONS
from shared.domain.forms.open_competition_units import UNIT_KINDS, USER_KINDS
from shared.domain.forms.signature_product_applicant import UNIT_NATURES
from shared.domain.forms.signature_product_details import (
    EQUIPMENT_CATEGORIES,
    IP_KINDS,
    MARKET_SHARE_RANKS,
    PRODUCT_STAGES,
    STANDARD_LEVELS,
)

PAGE: dict[str, dict[str, str]] = {
    "form.title": {"zh": "填写申请表", "en": "Application form"},
    "form.apply": {"zh": "填写申请", "en": "Apply"},
    "form.closed": {"zh": "已截止", "en": "closed"},
    "form.draft": {"zh": "草稿", "en": "Draft"},
    "form.open": {"zh": "打开申请表", "en": "Open the form"},
    "form.no_directions": {"zh": "该通知尚未公布揭榜方向。", "en": "The call names no task direction yet."},
    "form.evidence": {"zh": "证明材料上传", "en": "Evidence uploads"},
    "form.accepted": {"zh": "可上传的文件类型（以文件内容判定）：", "en": "Accepted file types (judged by content):"},
    "form.file": {"zh": "选择文件", "en": "File"},
    "form.upload": {"zh": "上传", "en": "Upload"},
    "form.progress": {"zh": "上传进度", "en": "Upload progress"},
    "form.filename": {"zh": "文件名", "en": "File name"},
    "form.size": {"zh": "大小（字节）", "en": "Size (bytes)"},
    "form.uploaded": {"zh": "已上传：", "en": "Uploaded:"},
    "form.upload_failed": {"zh": "上传未成功：", "en": "The upload failed:"},
    "form.refused": {"zh": "申请未被接受，请按各栏提示修改：", "en": "Not accepted; correct the fields as marked:"},
    "form.required_hint": {"zh": "标 * 者为必填项；证明材料栏填写已上传文件的 SHA-256。",
                           "en": "Fields marked * are required; evidence fields take an uploaded file's SHA-256."},
    "form.save": {"zh": "保存草稿", "en": "Save draft"},
    "form.submit": {"zh": "提交", "en": "Submit"},
    "form.saved": {"zh": "草稿已保存。", "en": "Draft saved."},
    "form.submitted": {"zh": "申请已提交。", "en": "Application submitted."},
    "form.delete": {"zh": "删除草稿", "en": "Delete the draft"},
    "form.delete_question": {"zh": "将删除草稿：", "en": "This deletes the draft:"},
    "form.delete_final": {"zh": "草稿删除后不能恢复；已上传的证明材料不受影响。",
                          "en": "A deleted draft cannot be restored; uploaded evidence is not affected."},
    "form.delete_confirm": {"zh": "确定删除", "en": "Delete"},
    "form.delete_keep": {"zh": "保留草稿", "en": "Keep it"},
    "form.deleted": {"zh": "草稿已删除。", "en": "Draft deleted."},
    "form.add_row": {"zh": "增加一行", "en": "Add a row"},
    "form.remove_row": {"zh": "删除", "en": "Remove"},
    "form.at_most_rows": {"zh": "最多", "en": "at most"},
    "form.choose": {"zh": "请选择", "en": "Choose"},
    "form.chars": {"zh": "字", "en": "characters"},
}

LABELS: dict[str, tuple[str, str]] = {
    # 标志性产品申请表 (382号 附件1)
    "Application.cover": ("封面", "Cover"),
    "Application.applicant": ("一、申请单位信息", "1. The applicant"),
    "Application.product": ("二、申请产品情况", "2. The product"),
    "Application.declaration": ("三、申请单位声明", "3. Declaration"),
    "SignatureProductContact.name": ("姓名", "Name"),
    "SignatureProductContact.post": ("职务", "Post"),
    "mobile": ("手机", "Mobile"),
    "email": ("电子邮箱", "Email"),
    "SignatureProductCover.applicant_name": ("申请单位名称（盖章）", "Applicant (sealed)"),
    "SignatureProductCover.seal": ("封面盖章页（已上传文件的SHA-256）", "Sealed cover (uploaded file's SHA-256)"),
    "contact_1": ("联系人1", "Contact 1"),
    "contact_2": ("联系人2", "Contact 2"),
    "submitted_on": ("报送日期", "Submission date"),
    "full_name": ("单位名称", "Full name"),
    "industry_class": ("所属大类行业", "Industry class"),
    "legal_representative": ("法定代表人", "Legal representative"),
    "registered_capital_10k_cny": ("注册资本（万元）", "Registered capital (10k CNY)"),
    "address": ("单位地址", "Address"),
    "credit_code": ("统一社会信用代码", "Unified social credit code"),
    "unit_nature": ("单位性质", "Unit nature"),
    "unit_nature_other": ("其他单位性质（请注明）", "Other nature (state it)"),
    "listed": ("是否上市公司", "Listed company"),
    "stock_code": ("股票代码", "Stock code"),
    "stock_exchange": ("上市地点", "Stock exchange"),
    "listed_on": ("上市时间", "Listed on"),
    "main_business_revenue_10k_cny": ("上年度主营业务收入（万元）", "Main business revenue last year (10k CNY)"),
    "main_business_revenue_evidence": ("主营业务收入证明材料", "Evidence of revenue"),
    "rd_spending_10k_cny": ("上年度研发投入（万元）", "R&D spending last year (10k CNY)"),
    "rd_spending_evidence": ("研发投入证明材料", "Evidence of R&D spending"),
    "staff_count": ("单位人数", "Staff"),
    "rd_staff_count": ("研发人员人数", "R&D staff"),
    "profile": ("单位简介", "Profile"),
    "profile_evidence": ("单位简介证明材料", "Evidence of the profile"),
    "SignatureProductDetails.name": ("产品名称", "Product name"),
    "domain": ("所属征集领域", "Domain"),
    "domain_other": ("其他领域（请注明）", "Other domain (state it)"),
    "type": ("所属征集类型", "Type"),
    "innovation_highlights": ("产品创新亮点和优势", "Innovation highlights"),
    "stage": ("产品所处阶段", "Stage"),
    "needs_admin_licence": ("是否涉及特殊注册、许可或备案等前置行政许可手续", "Needs a prior administrative licence"),
    "admin_licence_category": ("前置行政许可类别", "Licence category"),
    "admin_licence_number": ("证书号或批准文号", "Certificate or approval number"),
    "admin_licence_evidence": ("前置行政许可证明材料", "Evidence of the licence"),
    "output_last_year_tonnes": ("上年度产量（吨）", "Output last year (tonnes)"),
    "market_share_rank": ("占全国同类产品市场份额", "National market share rank"),
    "domestic_market_share_percent": ("国内市场占有率（%）", "Domestic market share (%)"),
    "exports": ("是否出口", "Exported"),
    "export_volume_last_year_tonnes": ("上年度出口量（吨，无可不填）", "Exports last year (tonnes, optional)"),
    "technical_process": ("技术工艺概述", "Technical process"),
    "equipment": ("使用主要设备情况", "Main equipment"),
    "advancement_and_competitiveness": ("产品先进性和核心竞争力", "Advancement and competitiveness"),
    "market_and_sales": ("市场销售情况", "Market and sales"),
    "application_prospects": ("产品应用前景", "Application prospects"),
    "pilot_verification": ("已完成的产品化（中试）验证情况", "Completed pilot verification"),
    "ip_items": ("知识产权情况", "Intellectual property"),
    "ip_note": ("知识产权情况说明", "Note on intellectual property"),
    "ip_evidence": ("知识产权证明材料", "Evidence of intellectual property"),
    "standards": ("现行有效标准情况", "Standards in force"),
    "standards_note": ("标准情况说明", "Note on standards"),
    "standards_evidence": ("标准证明材料", "Evidence of standards"),
    "SignatureProductIpItem.name": ("名称", "Name"),
    "kind_other": ("其他类别（请注明）", "Other kind (state it)"),
    "granted_by": ("批准机构", "Granted by"),
    "granted_on": ("批准时间", "Granted on"),
    "SignatureProductIpItem.kind": ("类别", "Kind"),
    "SignatureProductStandardItem.name": ("标准名称", "Standard"),
    "number": ("标准编号", "Number"),
    "level": ("标准类别", "Level"),
    "SignatureProductDeclaration.applicant_name": ("申请单位（声明单位名称）", "Declaring unit"),
    "no_major_accident_or_environmental_violation": ("本单位近三年内未出现重大事故，无环境违法记录",
                                                     "No major accident or environmental violation in 3 years"),
    "no_violation_in_centrally_funded_projects": (
        "涉及中央财政资金支持的项目在绩效评价、监督检查中未出现违法违规行为",
        "No violation found in centrally funded projects"),
    "materials_true_and_complete": ("本次报送的所有材料均真实、完整，如有不实，愿承担相应责任",
                                    "All materials are true and complete"),
    "SignatureProductDeclaration.seal": ("声明盖章页（已上传文件的SHA-256）",
                                         "Sealed declaration (uploaded file's SHA-256)"),
    "sealed_on": ("盖章日期", "Sealed on"),
    # 揭榜挂帅 application (220号)
    "Application.direction": ("揭榜方向", "Task direction"),
    "Application.title": ("项目名称", "Project title"),
    "summary": ("项目简介", "Summary"),
    "targets": ("目标指标", "Targets"),
    "lead": ("牵头单位", "Lead unit"),
    "members": ("联合申请单位", "Consortium members"),
    "declarations": ("申请要求（申请单位声明）", "Requirements (declared)"),
    "Application.evidence": ("证明材料（已上传文件的SHA-256）", "Evidence (uploaded files' SHA-256)"),
    "Unit.name": ("单位名称", "Unit name"),
    "Unit.kind": ("单位类型", "Unit kind"),
    "role": ("任务分工", "Role in the consortium"),
    "cas_institute": ("中国科学院院属研究单位", "A CAS institute"),
    "user_enterprise": ("是否为用户企业", "A user enterprise"),
    "user_of": ("用户类型", "User of"),
}
LABELS.update({f"SignatureProductEquipment.{code}": (zh, code.replace("_", " ")) for code, zh in
               EQUIPMENT_CATEGORIES.items()})
LABELS.update({f"Declarations.{name}": texts for name, texts in DECLARATIONS.items()})

OPTIONS: dict[str, dict[str, str]] = {}
for codes in (UNIT_NATURES, MARKET_SHARE_RANKS, PRODUCT_STAGES, IP_KINDS, STANDARD_LEVELS, UNIT_KINDS, USER_KINDS):
    for code, zh in codes.items():
        # "other" is 其他 or 其它 as each list writes it: one word is enough for the form.
        OPTIONS.setdefault(f"form.option.{code}", {"zh": zh, "en": code.replace("_", " ")})

WORDS: dict[str, dict[str, str]] = {
    **PAGE,
    **{f"form.{key}": {"zh": zh, "en": en} for key, (zh, en) in LABELS.items()},
    **OPTIONS,
}

"""SAMPLE data: complete valid applications to both forms, and the evidence files they name.

For the demo, the tests and the benchmarks. Every unit, person, name and file here is
invented and says SAMPLE; the credit codes are made to pass GB 32100's check.
"""

from __future__ import annotations

import hashlib
from typing import Any

from stdnum.cn import uscc

from shared.domain.forms.open_competition import DECLARATIONS
from shared.domain.forms.open_competition_tasks import REACTOR_SYSTEMS

#: SAMPLE evidence files by digest: what the sample forms reference, for demos and tests to upload.
SAMPLE_EVIDENCE: dict[str, bytes] = {}


def sample_evidence(label: str) -> str:
    """The digest of a SAMPLE evidence file (the smallest PDF that sniffs as one, naming what it stands for)."""
    content = (f"%PDF-1.4\n% SAMPLE evidence document: {label}\n"
               "1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").encode()
    digest = hashlib.sha256(content).hexdigest()
    SAMPLE_EVIDENCE[digest] = content
    return digest


# -- 生物制造标志性产品申请表 (382号) ----------------------------------------------------------------

_SAMPLE_CREDIT_CODE_BASE = "91420100MA4K12345"  # registration authority 9, enterprise 1, Wuhan 420100
SAMPLE_CREDIT_CODE = _SAMPLE_CREDIT_CODE_BASE + uscc.calc_check_digit(_SAMPLE_CREDIT_CODE_BASE)
SAMPLE_APPLICANT_NAME = "SAMPLE 示例生物制造科技有限公司（样例单位）"

SAMPLE_SIGNATURE_PRODUCT_APPLICATION: dict[str, Any] = {
    "cover": {
        "applicant_name": SAMPLE_APPLICANT_NAME,
        "seal": sample_evidence("cover seal"),
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
        "main_business_revenue_evidence": [sample_evidence("audited revenue 2023")],
        "rd_spending_10k_cny": "2100",
        "rd_spending_evidence": [sample_evidence("R&D spending 2023")],
        "staff_count": 320,
        "rd_staff_count": 58,
        "profile": "SAMPLE 样例单位简介：本单位为示例用虚构企业，成立于2015年，主营生物基材料的研发与生产。",
        "profile_evidence": [sample_evidence("business licence"), sample_evidence("awards")],
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
        "ip_evidence": [sample_evidence("patent certificates")],
        "standards": [
            {"name": "SAMPLE 样例生物基材料", "number": "SAMPLE QB/T 0000-2024", "level": "industry"},
        ],
        "standards_note": "SAMPLE 示例：本单位参与制定上述行业标准。",
        "standards_evidence": [sample_evidence("standard text")],
    },
    "declaration": {
        "applicant_name": SAMPLE_APPLICANT_NAME,
        "no_major_accident_or_environmental_violation": True,
        "no_violation_in_centrally_funded_projects": True,
        "materials_true_and_complete": True,
        "seal": sample_evidence("declaration seal"),
        "sealed_on": "2024-11-15",
    },
}
"""A complete valid application of an invented unit; every text says SAMPLE."""


# -- 揭榜挂帅 application (220号) ------------------------------------------------------------------


def _sample_credit_code(first17: str) -> str:
    """A code that passes GB 32100's check: 17 characters and stdnum's check character."""
    return first17 + uscc.calc_check_digit(first17)


SAMPLE_CATEGORY = REACTOR_SYSTEMS
SAMPLE_DIRECTIONS = (
    # Not a direction of the notice (attachment 1 is not available): a SAMPLE code for tests
    # and demonstrations only.
    {"code": "SAMPLE-R1", "name": "SAMPLE 反应器系统方向（示例）", "category": REACTOR_SYSTEMS},
)

SAMPLE_OPEN_COMPETITION_APPLICATION: dict[str, Any] = {
    "direction": "SAMPLE-R1",
    "title": "SAMPLE 万升级高性能细胞培养生物反应器系统攻关",
    "summary": "SAMPLE 示例项目简介：联合体研制万升级一次性细胞培养生物反应器系统，"
               "由反应器用户企业开展应用验证。",
    "targets": [
        "SAMPLE 工作体积不小于10000升",
        "SAMPLE 溶氧控制精度±2%",
    ],
    "lead": {
        "name": "SAMPLE 生物装备有限公司",
        "credit_code": _sample_credit_code("91420100000000001"),
        "kind": "enterprise",
        "role": "SAMPLE 牵头单位：反应器系统集成与制造",
        "user_enterprise": False,
    },
    "members": [
        {
            "name": "SAMPLE 生物制药股份有限公司",
            "credit_code": _sample_credit_code("91420100000000002"),
            "kind": "enterprise",
            "role": "SAMPLE 反应器用户：应用验证",
            "user_enterprise": True,
            "user_of": ["reactor"],
        },
        {
            "name": "SAMPLE 大学",
            "credit_code": _sample_credit_code("12420000000000003"),
            "kind": "university",
            "role": "SAMPLE 流场模拟与放大理论",
        },
        {
            "name": "SAMPLE 中国科学院某研究所",
            "credit_code": _sample_credit_code("12100000000000004"),
            "kind": "research_institute",
            "cas_institute": True,
            "role": "SAMPLE 过程传感与控制算法",
        },
    ],
    "declarations": {name: True for name in DECLARATIONS},
    "evidence": [
        # SAMPLE files (SAMPLE_EVIDENCE), uploaded by demos and tests
        sample_evidence("consortium evidence 1"),
        sample_evidence("consortium evidence 2"),
    ],
}

"""The console's words, in Chinese (the default) and English. Written by hand; a key missing
in English falls back to the Chinese, never to the key itself."""

from __future__ import annotations

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"zh": "揭榜挂帅与标志性产品 案件平台", "en": "Calls and cases platform"},
    "nav.home": {"zh": "首页", "en": "Home"},
    "nav.public": {"zh": "公示与名单", "en": "Published lists"},
    "nav.calls": {"zh": "申报通知", "en": "Calls"},
    "nav.cases": {"zh": "我的申报", "en": "My cases"},
    "nav.inbox": {"zh": "待审核", "en": "Inbox"},
    "auth.sign_in": {"zh": "登录", "en": "Sign in"},
    "auth.sign_out": {"zh": "退出登录", "en": "Sign out"},
    "auth.needed": {"zh": "请先登录。", "en": "Please sign in first."},
    "auth.failed": {"zh": "登录未完成，请重试。", "en": "The sign-in did not complete; please try again."},
    "lang.switch": {"zh": "English", "en": "中文"},
    "home.welcome": {"zh": "欢迎", "en": "Welcome"},
    "home.anonymous": {"zh": "登录后可办理申报与审核；公示与名单无需登录即可查看。",
                       "en": "Sign in to file or review cases; published lists need no sign-in."},
    "who.name": {"zh": "姓名", "en": "Name"},
    "who.role": {"zh": "角色", "en": "Role"},
    "who.org": {"zh": "单位/地区代码", "en": "Unit or region code"},
    "role.applicant": {"zh": "申报单位", "en": "Applicant"},
    "role.city": {"zh": "市级主管部门", "en": "City authority"},
    "role.province": {"zh": "省级主管部门", "en": "Province authority"},
    "role.ministry": {"zh": "工业和信息化部", "en": "Ministry"},
    "role.expert": {"zh": "评审专家", "en": "Expert"},
    "role.evaluator": {"zh": "第三方评估机构", "en": "Evaluator"},
    "role.auditor": {"zh": "审计人员", "en": "Auditor"},
    "col.title": {"zh": "名称", "en": "Title"},
    "col.call": {"zh": "通知", "en": "Call"},
    "col.program": {"zh": "类别", "en": "Programme"},
    "col.version": {"zh": "版本", "en": "Version"},
    "col.state": {"zh": "状态", "en": "State"},
    "col.updated": {"zh": "更新时间", "en": "Updated"},
    "col.applicant": {"zh": "申报单位", "en": "Applicant"},
    "col.deadline": {"zh": "本级截止日期", "en": "This level's deadline"},
    "col.days_left": {"zh": "剩余天数", "en": "Days left"},
    "col.status": {"zh": "状态", "en": "Status"},
    "col.published": {"zh": "发布时间", "en": "Published"},
    "col.entries": {"zh": "条目数", "en": "Entries"},
    "col.year": {"zh": "年度", "en": "Year"},
    "col.milestones": {"zh": "节点", "en": "Milestones"},
    "days.overdue": {"zh": "已逾期", "en": "overdue"},
    "days.none": {"zh": "未设定", "en": "not set"},
    "empty": {"zh": "暂无内容。", "en": "Nothing here yet."},
    "case.title": {"zh": "申报详情", "en": "Case"},
    "case.no_timeline": {"zh": "接口暂未提供办理时间线，以下为当前状态与版本。",
                         "en": "No API gives this case's timeline yet; its state and version follow."},
    "error.api": {"zh": "服务返回错误", "en": "The service refused"},
    "error.unreachable": {"zh": "服务暂时无法访问，请稍后再试。",
                          "en": "The service cannot be reached; please try again later."},
    "error.csrf": {"zh": "表单已失效（缺少或错误的校验码），请返回重试。",
                   "en": "The form has expired (missing or wrong check code); go back and try again."},
    "error.not_found": {"zh": "页面不存在。", "en": "No such page."},
    "error.forbidden": {"zh": "您的角色无权查看此页面。", "en": "Your role may not see this page."},
}


def translate(key: str, lang: str) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["zh"]

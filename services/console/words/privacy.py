"""The privacy officer's pages (pages/privacy.py)."""

WORDS = {
    "privacy.title": {"zh": "个人信息保护：查找案件", "en": "Personal data: find a case"},
    "privacy.case": {"zh": "个人信息：案件", "en": "Personal data of case"},
    "privacy.panel": {"zh": "个人信息：评审专家组", "en": "Personal data of the expert panel"},
    "privacy.contact": {"zh": "个人信息：主管部门联系人", "en": "Personal data: the authority's contact"},
    "privacy.contact.hint": {"zh": "推荐汇总表所列联系人由该主管部门自行填写；"
                                   "删除后该部门须重新填写联系人方可导出汇总表。",
                             "en": "The authority names its own contact for the recommendation table; once erased, "
                                   "the authority must name another before the table can be produced."},
    "privacy.authority": {"zh": "主管部门", "en": "Authority"},
    "privacy.draft": {"zh": "个人信息：申报草稿", "en": "Personal data: a draft"},
    "privacy.draft.hint": {"zh": "草稿为申报单位尚未提交的工作稿，不属于任何案件记录；"
                                 "删除后不可恢复，申报单位需重新填写。",
                           "en": "A draft is the applicant's unsubmitted working copy, part of no case's history; once "
                                 "deleted it cannot be recovered and the applicant fills the form in again."},
    "privacy.erasures": {"zh": "删除记录", "en": "Erasures recorded"},
    "privacy.copy.contacts": {"zh": "作为主管部门联系人", "en": "As an authority's contact"},
    "privacy.subject": {"zh": "个人信息主体", "en": "Data subject"},
    "privacy.kind": {"zh": "类别", "en": "Kind"},
    "privacy.state": {"zh": "状态", "en": "State"},
    "privacy.erased": {"zh": "已删除", "en": "Erased"},
    "privacy.held": {"zh": "保存中", "en": "Held"},
    "privacy.values": {"zh": "所存信息", "en": "What is held"},
    "privacy.shown_to": {"zh": "被查看次数", "en": "Times shown"},
    "privacy.when": {"zh": "时间", "en": "When"},
    "privacy.route": {"zh": "途径", "en": "Where (route)"},
    "privacy.readings": {"zh": "个人信息查看记录", "en": "Who was shown this case's personal data"},
    "privacy.erase.title": {"zh": "依申请删除", "en": "Erase on request"},
    "privacy.erase.whose": {"zh": "删除谁的信息", "en": "Whose data to erase"},
    "privacy.erase.request": {"zh": "申请编号（不得填写个人信息）", "en": "Request reference (no personal data)"},
    "privacy.erase.reason": {"zh": "删除理由（法律依据）", "en": "Reason (legal ground)"},
    "privacy.erase.submit": {"zh": "删除（不可恢复）", "en": "Erase (cannot be undone)"},
    "privacy.done.erased": {"zh": "已删除以下主体的个人信息", "en": "Personal data erased of"},
    "privacy.copy.title": {"zh": "个人信息查询（本人申请）", "en": "A person's copy of their data"},
    "privacy.copy.hint": {"zh": "按姓名、手机或电子邮箱查找平台保存的该人全部信息；本次查询将被记录。",
                          "en": "Finds everything held about a person by name, mobile or e-mail; "
                                "the search is recorded."},
    "privacy.copy.name": {"zh": "姓名", "en": "Name"},
    "privacy.copy.mobile": {"zh": "手机", "en": "Mobile"},
    "privacy.copy.email": {"zh": "电子邮箱", "en": "E-mail"},
    "privacy.copy.submit": {"zh": "查询", "en": "Search"},
    "privacy.copy.found": {"zh": "查询结果", "en": "Found"},
    "privacy.copy.drafts": {"zh": "提及此人的草稿", "en": "Drafts naming this person"},
}

"""Each kind's words: subject and body in Chinese, then in English, with the facts filled in.

Facts every case notice has: `title` (the case's), `call` (the call's title, else its id),
`case_id`. Others per kind: `reasons` (joined, one per line), `reason`, `milestone`, `due_on`,
`level`, `evaluator`, `expert`, `objection`, `deadline`, `days_left`, `cases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.notifications.kinds import Kind
from shared.domain.notifications.notice import Message

_CASE_ZH = "申请：{title}\n征集通知：{call}\n案件编号：{case_id}"
_CASE_EN = "Application: {title}\nCall: {call}\nCase: {case_id}"

# kind -> (subject zh, body zh, subject en, body en)
TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    Kind.RETURNED_FOR_CORRECTION: (
        "申请被退回补正：{title}",
        "您的申请已被{level_zh}退回补正，请按以下意见修改后重新提交：\n{reasons}\n\n" + _CASE_ZH,
        "Application returned for correction: {title}",
        "Your application was returned for correction by the {level} level. Please amend it as follows "
        "and resubmit:\n{reasons}\n\n" + _CASE_EN),
    Kind.REJECTED: (
        "申请未获推荐：{title}",
        "您的申请未获{level_zh}推荐。理由：{reason}\n\n" + _CASE_ZH,
        "Application not recommended: {title}",
        "Your application was rejected at the {level} level. Reason: {reason}\n\n" + _CASE_EN),
    Kind.SHORTLISTED: (
        "入围通知：{title}",
        "您的申请已入围，请准备签订任务书。\n\n" + _CASE_ZH,
        "Shortlisted: {title}",
        "Your application is shortlisted; the task book comes next.\n\n" + _CASE_EN),
    Kind.NOT_SHORTLISTED: (
        "未入围通知：{title}",
        "您的申请未入围。理由：{reason}\n\n" + _CASE_ZH,
        "Not shortlisted: {title}",
        "Your application was not shortlisted. Reason: {reason}\n\n" + _CASE_EN),
    Kind.MILESTONE_ACCEPTED: (
        "里程碑报告已通过：{milestone}",
        "里程碑“{milestone}”（应于{due_on}完成）的报告已通过。{note}\n\n" + _CASE_ZH,
        "Milestone report accepted: {milestone}",
        "The report on milestone \"{milestone}\" (due {due_on}) was accepted. {note}\n\n" + _CASE_EN),
    Kind.MILESTONE_SENT_BACK: (
        "里程碑报告被退回：{milestone}",
        "里程碑“{milestone}”（应于{due_on}完成）的报告被退回，请按以下意见重新报告：\n{reasons}\n\n" + _CASE_ZH,
        "Milestone report sent back: {milestone}",
        "The report on milestone \"{milestone}\" (due {due_on}) was sent back. Please report again:\n{reasons}\n\n"
        + _CASE_EN),
    Kind.MILESTONE_OVERDUE: (
        "里程碑已逾期：{milestone}",
        "里程碑“{milestone}”应于{due_on}完成，至今未收到报告，现已逾期。请尽快报告。\n\n" + _CASE_ZH,
        "Milestone overdue: {milestone}",
        "Milestone \"{milestone}\" was due on {due_on} and no report has been accepted: it is overdue. "
        "Please report as soon as possible.\n\n" + _CASE_EN),
    Kind.EVALUATOR_COMMISSIONED: (
        "已委托第三方评价：{title}",
        "已委托第三方机构（{evaluator}）对您的揭榜任务开展评价。\n\n" + _CASE_ZH,
        "Third-party evaluator commissioned: {title}",
        "A third-party institution ({evaluator}) has been commissioned to evaluate your task.\n\n" + _CASE_EN),
    Kind.SELECTED: (
        "入选通知：{title}",
        "您的申请已入选。\n\n" + _CASE_ZH,
        "Selected: {title}",
        "Your application has been selected.\n\n" + _CASE_EN),
    Kind.NOT_SELECTED: (
        "未入选通知：{title}",
        "您的申请未入选。理由：{reason}\n\n" + _CASE_ZH,
        "Not selected: {title}",
        "Your application was not selected. Reason: {reason}\n\n" + _CASE_EN),
    Kind.PUBLISHED: (
        "名单已正式发布：{title}",
        "您的申请已列入正式发布的名单（{list_id}）。\n\n" + _CASE_ZH,
        "Published: {title}",
        "Your application is on the published list ({list_id}).\n\n" + _CASE_EN),
    Kind.DELISTED: (
        "公示异议成立，已从名单撤下：{title}",
        "公示期间的异议经核查成立，您的申请已从名单撤下。处理意见：{resolution}\n\n" + _CASE_ZH,
        "Delisted after an objection: {title}",
        "An objection raised during the public notice was upheld and your application was taken off the list. "
        "Resolution: {resolution}\n\n" + _CASE_EN),
    Kind.CASE_IN_INBOX: (
        "待审核申请：{title}",
        "一件申请待贵单位（{level_zh}）审核，审核截止时间以征集通知为准。\n申请单位：{applicant}\n\n" + _CASE_ZH,
        "Application awaiting your review: {title}",
        "An application awaits your review at the {level} level; the call sets your deadline.\n"
        "Applicant: {applicant}\n\n" + _CASE_EN),
    Kind.EXPERT_ASSIGNED: (
        "评审任务：{title}",
        "您已被指派评审以下申请。查看申请前，请先声明与申请单位有无利益关联。\n\n" + _CASE_ZH,
        "Review assignment: {title}",
        "You are assigned to review this application. Declare any conflict of interest with its units before "
        "you open it.\n\n" + _CASE_EN),
    Kind.EVALUATOR_COMMISSIONED_TO_YOU: (
        "第三方评价委托：{title}",
        "贵机构受委托对以下揭榜任务开展第三方评价，请对照任务书目标逐项给出评价意见。\n\n" + _CASE_ZH,
        "Commissioned to evaluate: {title}",
        "Your institution is commissioned to evaluate this task against each target of its task book.\n\n"
        + _CASE_EN),
    Kind.OBJECTION_RAISED: (
        "公示异议：{title}",
        "公示期间收到异议（{objection}），请核查处理。异议理由：{reasons}\n\n" + _CASE_ZH,
        "Objection raised: {title}",
        "An objection ({objection}) was raised during the public notice; please look into it. "
        "Reasons: {reasons}\n\n" + _CASE_EN),
    Kind.REMINDER_DEADLINE: (
        "截止提醒：{call}（{deadline}）",
        "贵单位（{level_zh}）有{cases}件申请待审核，本级截止日期为{deadline}，距截止还有{days_left}个工作日。\n"
        "征集通知：{call}",
        "Deadline reminder: {call} ({deadline})",
        "{cases} application(s) await your review at the {level} level. Your deadline is {deadline}: "
        "{days_left} working day(s) left.\nCall: {call}"),
    Kind.REMINDER_MILESTONE: (
        "里程碑到期提醒：{milestone}（{deadline}）",
        "里程碑“{milestone}”应于{deadline}完成，距到期还有{days_left}个工作日，请按时报告。\n\n" + _CASE_ZH,
        "Milestone due: {milestone} ({deadline})",
        "Milestone \"{milestone}\" is due on {deadline}: {days_left} working day(s) left. Please report in "
        "time.\n\n" + _CASE_EN),
    Kind.CALENDAR_YEAR_UNKNOWN: (
        "请登记{year}年节假日安排",
        "{deadlines}个截止日期需要按{year}年的工作日计算，但平台尚无该年的节假日安排"
        "（部里未登记，holidays 程序包也不知道）。相关提醒暂不发送、不作推测。"
        "请依据国务院办公厅通知登记{year}年安排。\n"
        "涉及：{keys}",
        "Record the {year} holiday arrangement",
        "{deadlines} deadline(s) need working days in {year}, and no calendar has that year (the ministry "
        "has not recorded it and the holidays package does not know it). Their reminders are held back, not "
        "guessed. Please record the State Council's arrangement for {year}.\nConcerned: {keys}"),
}

LEVEL_ZH = {"city": "市级主管部门", "province": "省级主管部门", "ministry": "部", "applicant": "申请单位"}


def render(kind: str, facts: Mapping[str, Any]) -> Message:
    """The message of `kind` with `facts`; KeyError names a fact the template needs and was not given."""
    filled = {**facts, "level_zh": LEVEL_ZH.get(str(facts.get("level", "")), facts.get("level", ""))}
    subject_zh, body_zh, subject_en, body_en = TEMPLATES[kind]
    return Message(subject_zh.format(**filled), body_zh.format(**filled),
                   subject_en.format(**filled), body_en.format(**filled))

"""The application forms' messages.

Every message is bilingual, Chinese then English (`"必填 / required"`), and names the
rule that failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def bilingual(zh: str, en: str) -> str:
    """One message: Chinese, then English."""
    return f"{zh} / {en}"


REQUIRED = bilingual("必填", "required")
MUST_BE_TEXT = bilingual("须为文本", "must be text")
MUST_BE_OBJECT = bilingual("须为对象", "must be an object")
MUST_BE_LIST = bilingual("须为列表", "must be a list")
MUST_BE_YES_NO = bilingual("须为是或否（true/false）", "must be yes or no (true/false)")
MUST_BE_WHOLE_NUMBER = bilingual("须为整数", "must be a whole number")
MUST_BE_NUMBER = bilingual("须为数字", "must be a number")
MUST_BE_FINITE = bilingual("须为有限数字", "must be a finite number")
MUST_BE_DATE = bilingual("须为日期，格式YYYY-MM-DD", "must be a date as YYYY-MM-DD")
MUST_BE_EMAIL = bilingual("须为有效的电子邮箱", "must be a valid email address")
MUST_BE_MOBILE = bilingual("须为11位中国大陆手机号码", "must be an 11-digit mainland China mobile number")
MUST_BE_DOCUMENT = bilingual(
    "须为文件的SHA-256摘要（64位小写十六进制）",
    "must be a document's SHA-256 digest (64 lowercase hex characters)",
)
EVIDENCE_REQUIRED = bilingual("至少提供一份证明材料", "at least one evidence document is required")
AT_LEAST_ONE_ENTRY = bilingual("至少填写一项", "at least one entry is required")
UNKNOWN_FIELD = bilingual("申请表中无此栏目", "unknown field: not on the application form")
MUST_BE_TRUE = bilingual("须确认此项声明", "this statement must be confirmed (true)")

CREDIT_CODE_LENGTH = bilingual("统一社会信用代码须为18位", "unified social credit code must have 18 characters")
CREDIT_CODE_FORMAT = bilingual(
    "统一社会信用代码含非法字符（前8位为数字，其余为数字或除I、O、S、V、Z外的大写字母）",
    "unified social credit code has invalid characters (8 digits, then digits or capitals except I, O, S, V, Z)",
)
CREDIT_CODE_CHECKSUM = bilingual(
    "统一社会信用代码校验位错误", "unified social credit code has a wrong check character"
)


def max_chars_message(limit: int, given: int) -> str:
    return bilingual(f"不得超过{limit}字（现为{given}字）", f"at most {limit} characters ({given} given)")


def at_least_message(minimum: Any) -> str:
    return bilingual(f"须不小于{minimum}", f"must be at least {minimum}")


def between_message(minimum: Any, maximum: Any) -> str:
    return bilingual(f"须在{minimum}到{maximum}之间", f"must be between {minimum} and {maximum}")


def at_most_field_message(other_zh: str, other_en: str) -> str:
    return bilingual(f"不得超过{other_zh}", f"must not exceed {other_en}")


def at_most_entries_message(limit: int) -> str:
    return bilingual(f"不得超过{limit}项", f"at most {limit} entries")


def evidence_max_message(limit: int) -> str:
    return bilingual(f"证明材料不得超过{limit}份", f"at most {limit} evidence documents")


def one_of_message(choices: Iterable[str]) -> str:
    listed = ", ".join(choices)
    return bilingual(f"须为以下之一：{listed}", f"must be one of: {listed}")


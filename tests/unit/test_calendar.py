"""The public notice (公示) lasts 10 working days on China's official calendar (382号 三(三)).

Every expected date below is worked out by hand from the State Council's
arrangements, not from the package under test:

国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）
  元旦 1月1日（周三）放假1天，不调休。
  春节 1月28日（除夕、周二）至2月4日（周二）放假调休，共8天；1月26日（周日）、2月8日（周六）上班。
  国庆节、中秋节 10月1日（周三）至8日（周三）放假调休，共8天；9月28日（周日）、10月11日（周六）上班。

国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）
  元旦 1月1日（周四）至3日（周六）放假调休，共3天；1月4日（周日）上班。
  春节 2月15日（腊月二十八、周日）至23日（正月初七、周一）放假调休，共9天；2月14日（周六）、2月28日（周六）上班。
  中秋节 9月25日（周五）至27日（周日）放假，共3天。
  国庆节 10月1日（周四）至7日（周三）放假调休，共7天；9月20日（周日）、10月10日（周六）上班。

A notice opened on a working day counts that day as its first; opened on a day off,
it starts on the next working day. The tenth working day is its last.
"""

from datetime import date

import pytest

from shared.domain.calendar import (
    ArrangementUnknown,
    WorkingCalendar,
    is_working_day,
    last_official_year,
    notice_period,
)

PACKAGE_ONLY = WorkingCalendar()  # nothing recorded by the ministry: the holidays package alone


@pytest.mark.parametrize("day,working", [
    # 2025
    (date(2025, 1, 26), True),   # Sunday, swapped into a working day
    (date(2025, 1, 29), False),  # Spring Festival
    (date(2025, 2, 4), False),   # the last day of the Spring Festival break (a Tuesday)
    (date(2025, 2, 8), True),    # Saturday, swapped
    (date(2025, 9, 28), True),   # Sunday, swapped
    (date(2025, 10, 1), False),  # National Day
    (date(2025, 10, 8), False),  # the last day of the National Day break
    (date(2025, 10, 11), True),  # Saturday, swapped
    (date(2025, 10, 12), False),  # an ordinary Sunday
    (date(2025, 10, 13), True),  # an ordinary Monday
    # 2026
    (date(2026, 1, 2), False),   # New Year's break (a Friday)
    (date(2026, 1, 4), True),    # Sunday, swapped
    (date(2026, 2, 14), True),   # Saturday, swapped, the eve of the break
    (date(2026, 2, 16), False),  # Spring Festival (a Monday)
    (date(2026, 2, 20), False),  # Spring Festival (a Friday)
    (date(2026, 2, 23), False),  # the last day of the break (a Monday)
    (date(2026, 2, 24), True),   # back at work
    (date(2026, 2, 28), True),   # Saturday, swapped
    (date(2026, 3, 1), False),   # an ordinary Sunday
    (date(2026, 9, 20), True),   # Sunday, swapped
    (date(2026, 9, 25), False),  # Mid-Autumn Festival (a Friday)
    (date(2026, 10, 7), False),  # the last day of the National Day break (a Wednesday)
    (date(2026, 10, 8), True),
    (date(2026, 10, 10), True),  # Saturday, swapped
    (date(2026, 10, 11), False),  # an ordinary Sunday
])
def test_working_days_follow_the_official_arrangement(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize("opened,first,last", [
    # 2025, across National Day: 9/26, 9/28(Sun), 9/29, 9/30, 10/9, 10/10, 10/11(Sat), 10/13, 10/14, 10/15
    (date(2025, 9, 26), date(2025, 9, 26), date(2025, 10, 15)),
    # 2025, opened on the swapped Sunday itself: 9/28(Sun), 9/29, 9/30, 10/9, 10/10, 10/11(Sat), 10/13 … 10/16
    (date(2025, 9, 28), date(2025, 9, 28), date(2025, 10, 16)),
    # 2025, across the Spring Festival: 1/24, 1/26(Sun), 1/27, 2/5, 2/6, 2/7, 2/8(Sat), 2/10, 2/11, 2/12
    (date(2025, 1, 24), date(2025, 1, 24), date(2025, 2, 12)),
    # 2025, opened during the holiday: it starts on the first working day after it (10/9 … 10/21,
    # with 10/11(Sat) counted)
    (date(2025, 10, 3), date(2025, 10, 9), date(2025, 10, 21)),
    # opened on an ordinary Sunday: Monday to the Friday of the next week
    (date(2025, 3, 2), date(2025, 3, 3), date(2025, 3, 14)),
    # 2026, across the Spring Festival: 2/11, 2/12, 2/13, 2/14(Sat), 2/24, 2/25, 2/26, 2/27, 2/28(Sat), 3/2
    (date(2026, 2, 11), date(2026, 2, 11), date(2026, 3, 2)),
    # 2026, opened on the swapped Saturday before the break: 2/14(Sat), 2/24 … 2/27, 2/28(Sat), 3/2 … 3/5
    (date(2026, 2, 14), date(2026, 2, 14), date(2026, 3, 5)),
    # 2026, opened in the break: 2/24, 2/25, 2/26, 2/27, 2/28(Sat), 3/2, 3/3, 3/4, 3/5, 3/6
    (date(2026, 2, 17), date(2026, 2, 24), date(2026, 3, 6)),
    # 2026, across Mid-Autumn and National Day: 9/18, 9/20(Sun), 9/21 … 9/24, 9/28, 9/29, 9/30, 10/8
    (date(2026, 9, 18), date(2026, 9, 18), date(2026, 10, 8)),
    # 2026, the day before National Day: 9/30, 10/8, 10/9, 10/10(Sat), 10/12 … 10/16, 10/19
    (date(2026, 9, 30), date(2026, 9, 30), date(2026, 10, 19)),
    # across the turn of 2025 into 2026: 12/24, 12/25, 12/26, 12/29, 12/30, 12/31, 1/4(Sun), 1/5, 1/6, 1/7
    (date(2025, 12, 24), date(2025, 12, 24), date(2026, 1, 7)),
])
def test_a_ten_working_day_notice_ends_on_the_tenth_working_day(opened, first, last):
    assert notice_period(opened, 10, PACKAGE_ONLY) == (first, last)


def test_a_notice_lasts_at_least_one_working_day():
    with pytest.raises(ValueError):
        notice_period(date(2025, 3, 3), 0, PACKAGE_ONLY)


def test_a_year_whose_arrangement_the_package_lacks_is_refused_not_guessed():
    # Without the State Council's arrangement the package knows the statutory days but
    # not the swapped working days: counting on it would give a wrong end date.
    year = last_official_year() + 1
    with pytest.raises(ArrangementUnknown) as refused:
        is_working_day(date(year, 1, 5))
    assert refused.value.year == year
    assert str(year) in str(refused.value)
    # A notice opened late in the last known year runs into the unknown one: refused too.
    with pytest.raises(ArrangementUnknown):
        notice_period(date(year - 1, 12, 28), 10, PACKAGE_ONLY)
    assert last_official_year() >= 2026  # the arrangements this file checks are in the package

"""The public notice (公示) lasts 10 working days on China's official calendar.

Expected dates are worked out by hand from the State Council's 2025 holiday
arrangement: Spring Festival 1月28日–2月4日 off, with Sunday 1月26日 and Saturday
2月8日 worked; National Day and Mid-Autumn 10月1日–8日 off, with Sunday 9月28日 and
Saturday 10月11日 worked.
"""

from datetime import date

import pytest

from shared.calendar import is_working_day, notice_period


@pytest.mark.parametrize("day,working", [
    (date(2025, 1, 26), True),   # Sunday, swapped into a working day
    (date(2025, 1, 29), False),  # Spring Festival
    (date(2025, 2, 8), True),    # Saturday, swapped
    (date(2025, 9, 28), True),   # Sunday, swapped
    (date(2025, 10, 1), False),  # National Day
    (date(2025, 10, 8), False),  # the last day of the National Day break
    (date(2025, 10, 11), True),  # Saturday, swapped
    (date(2025, 10, 12), False),  # an ordinary Sunday
    (date(2025, 10, 13), True),  # an ordinary Monday
])
def test_working_days_follow_the_official_arrangement(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize("opened,first,last", [
    # across National Day: 9/26, 9/28(Sun), 9/29, 9/30, 10/9, 10/10, 10/11(Sat), 10/13, 10/14, 10/15
    (date(2025, 9, 26), date(2025, 9, 26), date(2025, 10, 15)),
    # across the Spring Festival: 1/24, 1/26(Sun), 1/27, 2/5, 2/6, 2/7, 2/8(Sat), 2/10, 2/11, 2/12
    (date(2025, 1, 24), date(2025, 1, 24), date(2025, 2, 12)),
    # opened during the holiday: it starts on the first working day after it
    (date(2025, 10, 3), date(2025, 10, 9), date(2025, 10, 21)),
    # opened on an ordinary Sunday: Monday to the Friday of the next week
    (date(2025, 3, 2), date(2025, 3, 3), date(2025, 3, 14)),
])
def test_a_ten_working_day_notice_ends_on_the_tenth_working_day(opened, first, last):
    assert notice_period(opened, 10) == (first, last)


def test_a_notice_lasts_at_least_one_working_day():
    with pytest.raises(ValueError):
        notice_period(date(2025, 3, 3), 0)

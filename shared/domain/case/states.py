"""Where a case stands: the program it belongs to, its states, and the levels that verify it.

The notices know two programs (揭榜挂帅 and 标志性产品征集) and two chains of
verification: the province alone, or a city bureau first (Hubei's 市州经信局) and
then the province. Which state may follow which is the transition table
(transitions.py).
"""

from __future__ import annotations


class Program:
    OPEN_COMPETITION = "open_competition"  # 揭榜挂帅 tasks
    SIGNATURE_PRODUCT = "signature_product"  # 标志性产品征集

    ALL = (OPEN_COMPETITION, SIGNATURE_PRODUCT)


class State:
    SUBMITTED = "submitted"  # waiting for the first authority of its chain
    RETURNED = "returned"  # returned for correction; the applicant amends
    CITY_RECOMMENDED = "city_recommended"  # waiting for the province
    PROVINCE_ENDORSED = "province_endorsed"  # with the ministry
    REJECTED = "rejected"
    SHORTLISTED = "shortlisted"  # 入围 (open competition only)
    NOT_SHORTLISTED = "not_shortlisted"
    IN_IMPLEMENTATION = "in_implementation"  # task book signed
    EVALUATED = "evaluated"  # third-party evaluation recorded
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"
    NOTICE_OPEN = "notice_open"  # 公示
    DELISTED = "delisted"  # an objection was upheld during the notice
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"

    ALL = (
        SUBMITTED, RETURNED, CITY_RECOMMENDED, PROVINCE_ENDORSED, REJECTED,
        SHORTLISTED, NOT_SHORTLISTED, IN_IMPLEMENTATION, EVALUATED, SELECTED,
        NOT_SELECTED, NOTICE_OPEN, DELISTED, PUBLISHED, WITHDRAWN,
    )
    TERMINAL = (REJECTED, NOT_SHORTLISTED, NOT_SELECTED, DELISTED, PUBLISHED, WITHDRAWN)
    AWAITING_VERIFICATION = (SUBMITTED, CITY_RECOMMENDED)


class Level:
    CITY = "city"
    PROVINCE = "province"
    ALL = (CITY, PROVINCE)


# The notices know two chains: the province alone, or a city bureau first (Hubei's
# 市州经信局) and then the province. A call picks one per region.
VALID_CHAINS = ([Level.PROVINCE], [Level.CITY, Level.PROVINCE])


def awaiting_level(state: str, chain: list[str]) -> str | None:
    """The verification level a case in `state` waits for on its chain, if it waits for one."""
    if state == State.SUBMITTED:
        return chain[0]
    if state == State.CITY_RECOMMENDED:
        return Level.PROVINCE
    return None

"""Who recommends for whom: GB/T 2260 region codes and the authorities behind them.

Reference data, not from the notices (the notices name authorities by kind:
"各省、自治区、直辖市及新疆生产建设兵团", "计划单列市", Hubei's "各市、州、直管市、
神农架林区经信局"). The codes are those of GB/T 2260 as published by the Ministry of
Civil Affairs; the Xinjiang Production and Construction Corps has none and gets a
symbolic code here.

A case is filed with its *recommending authority*: the province-level authority of
the unit's registered region, except in a 计划单列市, whose own bureau recommends
straight to the ministry under its own quota (382号: "计划单列市工业和信息化主管部门
推荐产品数量不超过 2 项").
"""

from __future__ import annotations

import re

#: GB/T 2260 codes of the 31 province-level divisions of the mainland (省、自治区、直辖市).
PROVINCES = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省", "150000": "内蒙古自治区",
    "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省",
    "310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省", "350000": "福建省",
    "360000": "江西省", "370000": "山东省",
    "410000": "河南省", "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省",
    "500000": "重庆市", "510000": "四川省", "520000": "贵州省", "530000": "云南省", "540000": "西藏自治区",
    "610000": "陕西省", "620000": "甘肃省", "630000": "青海省", "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区",
}

#: 新疆生产建设兵团 recommends like a province but has no GB/T 2260 code; this symbolic
#: code stands for it until the platform adopts another.
XPCC = "XPCC"

#: Province-level recommending authorities (各省、自治区、直辖市及新疆生产建设兵团).
PROVINCE_LEVEL_AUTHORITIES = {**PROVINCES, XPCC: "新疆生产建设兵团"}

#: 计划单列市 (cities specifically designated in the state plan), by GB/T 2260 code.
#: The notices say "计划单列市" without naming them; this is the standing list.
PLANNED_CITIES = {
    "210200": "大连市",
    "370200": "青岛市",
    "330200": "宁波市",
    "350200": "厦门市",
    "440300": "深圳市",
}

#: Hubei's city-level divisions, the "city" level of its chain in the 382 forwarding
#: notice ("各市、州、直管市、神农架林区经信局"): 12 cities, 1 autonomous prefecture,
#: 3 county-level cities under the province (直管市) and the Shennongjia forestry district.
HUBEI_CITY_LEVEL = {
    "420100": "武汉市", "420200": "黄石市", "420300": "十堰市", "420500": "宜昌市", "420600": "襄阳市",
    "420700": "鄂州市", "420800": "荆门市", "420900": "孝感市", "421000": "荆州市", "421100": "黄冈市",
    "421200": "咸宁市", "421300": "随州市", "422800": "恩施土家族苗族自治州",
    "429004": "仙桃市", "429005": "潜江市", "429006": "天门市", "429021": "神农架林区",
}

#: City-level divisions known by name; elsewhere a city code is checked by its shape only.
KNOWN_CITY_LEVEL = {"420000": HUBEI_CITY_LEVEL}

_SIX_DIGITS = re.compile(r"^\d{6}$")


def is_planned_city(code: str) -> bool:
    """Is `code` one of the five 计划单列市 (大连, 青岛, 宁波, 厦门, 深圳)?"""
    return code in PLANNED_CITIES


def is_province_level_authority(code: str) -> bool:
    """A province, autonomous region, municipality or the XPCC."""
    return code in PROVINCE_LEVEL_AUTHORITIES


def authority_kind(code: str) -> str | None:
    """"planned_city", "province_level", or None (e.g. an ordinary city bureau)."""
    if is_planned_city(code):
        return "planned_city"
    if is_province_level_authority(code):
        return "province_level"
    return None


def name_of(code: str | None) -> str:
    """The division's name where this module knows it, else the code itself."""
    if code is None:
        return ""
    for table in (PROVINCE_LEVEL_AUTHORITIES, PLANNED_CITIES, *KNOWN_CITY_LEVEL.values()):
        if code in table:
            return table[code]
    return code


def region_errors(province: str | None, city: str | None) -> dict[str, list[str]]:
    """What is wrong with a unit's registered region, by field; empty when it is sound."""
    errors: dict[str, list[str]] = {}
    if not province:
        return {"region.province": ["a registered province-level region is required"]}
    if province not in PROVINCE_LEVEL_AUTHORITIES:
        return {"region.province": [f"{province!r} is not a GB/T 2260 province-level code (e.g. 420000) or {XPCC!r}"]}
    if city is None:
        return errors
    if province == XPCC:
        errors["region.city"] = ["the Xinjiang Production and Construction Corps has no city level here"]
    elif not _SIX_DIGITS.match(city) or city.endswith("0000"):
        errors["region.city"] = [f"{city!r} is not a GB/T 2260 city-level code (six digits, e.g. 420100)"]
    elif city[:2] != province[:2]:
        errors["region.city"] = [f"city {city} is not in province {province} ({PROVINCES[province]})"]
    elif province in KNOWN_CITY_LEVEL and city not in KNOWN_CITY_LEVEL[province]:
        errors["region.city"] = [f"{city} is not a city-level division of {PROVINCES[province]}"]
    return errors


def recommending_authority(province: str, city: str | None) -> str:
    """The authority that recommends a unit of this region to the ministry.

    A 计划单列市 recommends its own units directly; everyone else goes through the
    province-level authority (the chain may put a city bureau before it).
    """
    if city is not None and is_planned_city(city):
        return city
    return province

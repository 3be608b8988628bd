"""Where a unit was registered, read from its credit code, against the region it files as.

A unified social credit code (GB 32100) carries, in characters 3–8, the GB/T 2260 code of
the administrative division of the authority that registered the unit. A unit keeps its
code for life, even when it moves its registration, so a code registered elsewhere than the
claimed region is not refused: the difference is recorded on the case for the verifying
authorities to check as part of 真实性 (220号 三(二), 382号 三(二)). This is the platform's
reading; the notices say only that the province verifies authenticity.

How an area is compared with a claim (province, and city where the chain has one):

- `100000`, a national registration authority, is never flagged: it says nothing of a region.
- The province (first two digits) must be the claimed province's.
- An area of a province-level authority (`420000`) matches any claim in that province.
- Where the area names a city (or a county under it: `420102` is in `420100`) and the claim
  names one, the city (first four digits) must match; a 计划单列市 is a city (`440300` inside
  `440000`). A county-level city under a province (Hubei's 直管市 `429004`) is its own city-level
  division: its four digits are shared with its neighbours, so the whole code must match.
- A claim of a province alone is not held to the area's city. Nor is a municipality's
  (北京, 天津, 上海, 重庆): below it are districts and counties, whose codes (`1101xx`, `5002xx`)
  name no city, and a unit registered in a district keeps its code when districts are redrawn.
- The Xinjiang Production and Construction Corps has no GB/T 2260 code. Its units are in
  Xinjiang and are registered either by Xinjiang's authorities (`65…`, including the
  county-level cities the corps administers, `6590xx`) or by the corps' own. We read areas
  beginning `66` as the corps' own authorities: no province has that code, so the reading can
  only spare a corps unit a flag, never hide another province's (an assumption, not checked
  against the market regulator's list of registration authorities). An XPCC claim matches `65…`
  and `66…` and is flagged for anything else; a Xinjiang (`650000`) claim with a `66` area is
  flagged, the corps and not the region having registered it.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.regions import XPCC

NATIONAL_AUTHORITY = "100000"
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})  # 直辖市
#: The first two digits of registration areas in the corps' region: Xinjiang's, and the corps' own.
XPCC_AREA_PREFIXES = ("65", "66")


class Outcome:
    MATCHES = "matches"
    DIFFERS = "differs"  # flagged to the verifying authorities
    NATIONAL = "national"  # registered by a national authority: not compared
    NOT_CHECKED = "not_checked"  # filed before the platform compared areas
    ALL = (MATCHES, DIFFERS, NATIONAL, NOT_CHECKED)


@dataclass(frozen=True)
class RegistrationCheck:
    """The registration area of a unit's credit code compared with the region it files as."""

    outcome: str
    registered_area: str | None  # characters 3–8 of the credit code; None when not checked
    claimed_region: str | None  # the claim's city where it names one, else its province
    note: str  # in Chinese and English, for the verifying authorities

    @property
    def mismatch(self) -> bool:
        return self.outcome == Outcome.DIFFERS

    def as_record(self) -> dict[str, str | None]:
        """What the case's `Submitted` event stores."""
        return {"outcome": self.outcome, "registered_area": self.registered_area,
                "claimed_region": self.claimed_region, "note": self.note}

    @classmethod
    def from_record(cls, record: dict[str, str | None]) -> RegistrationCheck:
        outcome, note = record["outcome"], record["note"]
        assert outcome is not None and note is not None
        return cls(outcome=outcome, registered_area=record["registered_area"],
                   claimed_region=record["claimed_region"], note=note)


#: What a case filed before this check existed records: no comparison was made.
NOT_CHECKED = RegistrationCheck(
    outcome=Outcome.NOT_CHECKED, registered_area=None, claimed_region=None,
    note="未比对：提交时平台尚未比对登记机关行政区划与申报地区 / "
         "not checked: filed before the platform compared the registration area with the claimed region",
)


def registration_area(credit_code: str) -> str:
    """Characters 3–8 of a unified social credit code: where the registering authority sits."""
    return credit_code[2:8]


def check_registration_area(credit_code: str, province: str, city: str | None) -> RegistrationCheck:
    """The unit's registration area against the region it claims (`province`, and `city` if any)."""
    area = registration_area(credit_code)
    claimed = city or province
    if area == NATIONAL_AUTHORITY:
        return RegistrationCheck(
            Outcome.NATIONAL, area, claimed,
            f"登记机关为国家级（{area}），不比对申报地区 / "
            f"registered by a national authority ({area}): not compared with the claimed region")
    if _area_in_claim(area, province, city):
        return RegistrationCheck(
            Outcome.MATCHES, area, claimed,
            f"登记机关行政区划 {area}，与申报地区 {claimed} 相符 / registered in {area}, within {claimed}")
    return RegistrationCheck(
        Outcome.DIFFERS, area, claimed,
        f"登记机关行政区划 {area}，申报地区 {claimed} / registered in {area}, filing as {claimed}")


def _area_in_claim(area: str, province: str, city: str | None) -> bool:
    if province == XPCC:
        return area.startswith(XPCC_AREA_PREFIXES)
    if area[:2] != province[:2]:
        return False
    if area[2:] == "0000" or city is None or province in MUNICIPALITIES:
        return True  # a province-level authority's unit, or a claim held to its province alone
    if city.endswith("00"):
        return area[:4] == city[:4]
    return area == city  # a county-level city under the province is a city-level division of its own

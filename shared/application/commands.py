"""The shape of every case command: load, check who may act, change, save."""

from __future__ import annotations

from typing import Callable

from shared.domain.access import require_case
from shared.domain.access import Caller
from shared.domain.case import Case
from shared.application.decisions import decide_together
from shared.infra.ledger import CaseLedger


def change_case(
    ledger: CaseLedger, caller: Caller, case_id: str, roles: tuple[str, ...],
    command: Callable[[Case], None],
) -> Case:
    def attempt() -> tuple[Case, list]:
        case = require_case(caller, ledger.get_case(case_id), *roles)
        command(case)
        return case, []

    return decide_together(ledger, attempt)

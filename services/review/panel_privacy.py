"""A panel's experts' personal data (issue #21): sealed when the panel is formed and when an expert
declares a relation, revealed to the ministry on the panel's page, erased by the privacy officer.
No nameko, no HTTP.

Review owns the panel stream, so it records a panel's erasure the way intake records a case's
(services/intake/personal.py): `Panel.PersonalDataErased` appended first, then the keys destroyed;
the destruction is idempotent over every key the panel ever recorded as erased, so an erasure
interrupted between the two is finished by the next erasure of the panel or the next retention
pass (review's timer).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from shared.application.commands import CONTENDED, decide
from shared.domain.access import Caller
from shared.domain.case import State
from shared.domain.errors import NotFound
from shared.domain.panel import Panel, panel_id
from shared.domain.personal import EXPERT
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore, moment_of

from . import readmodels as rm
from .schemas import PanelSchema

PRIVACY = ("privacy",)


def sealed_experts(vault: Vault, call_id: str, direction: str, experts: list[dict[str, Any]]) -> list[dict]:
    """The experts as the panel's stream keeps them: each one's name sealed under their own key."""
    return vault.seal(str(panel_id(call_id, direction)), PanelSchema(), {"experts": experts})["experts"]


def sealed_relation(vault: Vault, panel: Panel, expert: str, relation: str) -> str:
    """A declared relation as the panel keeps it: the expert's own data, sealed under their key
    (blank stays blank, for the domain to refuse)."""
    if not relation.strip():
        return relation
    return vault.seal_value(str(panel.id), panel.subject_of(expert), EXPERT, relation)


class PanelPrivacy:
    """The privacy officer's part of `services.review.application.Review`."""

    ledger: CaseLedger
    store: ReadModelStore
    vault: Vault

    def panel_subjects(self, caller: Caller, call_id: str, direction: str) -> dict:
        """Whose data the panel holds: each expert's subject, erased or not; never the data."""
        caller.require(*PRIVACY)
        panel = self._privacy_panel(call_id, direction)
        return {"panel_id": str(panel.id), "call_id": call_id, "direction": direction,
                "subjects": self.vault.subjects(str(panel.id), panel.erased_keys)}

    def erase_panel_data(self, caller: Caller, call_id: str, direction: str, subjects: list[str], request: str,
                         reason: str) -> dict:
        """Records the erasure of experts' data on the panel, then destroys their keys."""
        caller.require(*PRIVACY)
        return self._erase_panel(caller, call_id, direction, subjects, request, reason)

    def panel_retention_pass(self, system: Caller, now: datetime) -> list[str]:
        """Erases, as the platform (`system`), the experts' data of every panel whose call sets
        `personal_data_retention_days` once every case of its direction has ended longer ago than
        that (a panel serves all of them); the panels erased."""
        with self.store.session() as session:
            formed = session.execute(sa.select(rm.panels.c.panel_id, rm.panels.c.call_id, rm.panels.c.direction)).all()
            cases = session.execute(sa.select(rm.review_cases.c.call_id, rm.review_cases.c.direction,
                                              rm.review_cases.c.state, rm.review_cases.c.updated_at)).all()
        erased = []
        for panel in formed:
            # Every pass finishes an erasure recorded on a panel but stopped before the key store.
            recorded = self._privacy_panel(panel.call_id, panel.direction).erased_keys
            self.vault.destroy(recorded)
            days = self.ledger.get_call(panel.call_id).current.get("personal_data_retention_days")
            of_panel = [c for c in cases if (c.call_id, c.direction) == (panel.call_id, panel.direction)]
            if not days or not of_panel or any(c.state not in State.TERMINAL for c in of_panel):
                continue
            if max(moment_of(c.updated_at) for c in of_panel) + timedelta(days=days) > now:
                continue
            live = sorted({k.subject for k in self.vault.store.of_case(panel.panel_id)
                           if k.key is not None and k.key_id not in recorded})
            if live:
                reason = (f"通知规定的个人信息保存期限（该方向全部案件结束后 {days} 天）届满 / the call's retention "
                          f"period for personal data ({days} days after the direction's last case ended) ran out")
                self._erase_panel(system, panel.call_id, panel.direction, live, request=f"retention:{panel.call_id}",
                                  reason=reason)
                erased.append(panel.panel_id)
        return erased

    def _erase_panel(self, caller: Caller, call_id: str, direction: str, subjects: list[str], request: str,
                     reason: str) -> dict:
        # An earlier erasure stopped between its event and the key store is finished first, so that
        # asking again for the same expert answers "already erased" with the key truly gone.
        self.vault.destroy(self._privacy_panel(call_id, direction).erased_keys)

        def erase() -> tuple[Panel, list]:
            panel = self._privacy_panel(call_id, direction)
            keys = self.vault.store.of_case(str(panel.id))
            panel.erase_personal_data(actor=caller.as_actor(), subjects=subjects,
                                      keys=[k.key_id for k in keys if k.subject in subjects and k.key is not None],
                                      held={k.subject for k in keys}, request=request, reason=reason)
            return panel, []

        panel = decide(self.ledger, erase, retry=CONTENDED)
        destroyed = self.vault.destroy(panel.erased_keys)
        return {"panel_id": str(panel.id), "version": panel.version, "subjects": sorted(set(subjects)),
                "keys_destroyed": destroyed}

    def _privacy_panel(self, call_id: str, direction: str) -> Panel:
        panel = self.ledger.find_panel(call_id, direction)
        if panel is None:
            raise NotFound(f"no expert panel for {direction} in call {call_id}")
        return panel

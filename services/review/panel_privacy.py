"""A panel's experts' personal data (issue #21): sealed when the panel is formed and when an expert
declares a relation, revealed to the ministry on the panel's page, erased by the privacy officer.
No nameko, no HTTP.

Review owns the panel stream, so it records a panel's erasure the way intake records a case's
(services/intake/personal.py): `Panel.PersonalDataErased` appended first, then the keys destroyed;
the destruction is idempotent over every key the panel ever recorded as erased, so an erasure
interrupted between the two is finished by the next one.
"""

from __future__ import annotations

from typing import Any

from shared.application.commands import CONTENDED, decide
from shared.domain.access import Caller
from shared.domain.errors import NotFound
from shared.domain.panel import Panel, panel_id
from shared.domain.personal import EXPERT
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault

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

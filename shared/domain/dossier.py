"""A unit's dossier: the documents it deposited before (or outside) any case, as a stream in the ledger.

An application names its evidence (证明材料) by SHA-256. Those files are uploaded
to the documents service first; each upload by a unit is a `DocumentDeposited`
on that unit's dossier (one stream per credit code). At submission intake reads
the dossier from the ledger and refuses a reference the unit never deposited, so
"the evidence exists and belongs to the applicant" is checked against the same
store every service reads, at the moment of submission, without calling another
service. Owned by documents; routed as `dossier.*`, which no queue binds (shared.domain.streams).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from shared.domain.actors import Actor, actor_record
from shared.domain.personal import ACTOR, DOCUMENT_AUTHOR, classified

DOSSIER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseplatform:dossier")


def dossier_id(credit_code: str) -> UUID:
    return uuid5(DOSSIER_NAMESPACE, credit_code)



class Dossier(Aggregate):
    class Event(Aggregate.Event):
        actor: Actor
        personal_fields: ClassVar[Mapping[str, str | None]] = classified(actor=ACTOR)

    class DossierOpened(Aggregate.Created):
        actor: Actor
        credit_code: str
        personal_fields = classified(actor=ACTOR, credit_code=None)

    class DocumentDeposited(Event):
        sha256: str
        size: int
        content_type: str
        filename: str  # metadata only: never a key or a path
        personal_fields = classified(sha256=None, content_type=None, filename=DOCUMENT_AUTHOR)

        def apply(self, dossier: Dossier) -> None:
            dossier.documents[self.sha256] = {
                "sha256": self.sha256, "size": self.size, "content_type": self.content_type,
                "filename": self.filename,
            }

    def __init__(self, *, actor: Actor, credit_code: str) -> None:
        self.credit_code = credit_code
        self.documents: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, *, actor: Actor, credit_code: str) -> Dossier:
        return cls._create(
            cls.DossierOpened, id=dossier_id(credit_code), actor=actor_record(actor), credit_code=credit_code,
        )

    def deposit(self, *, actor: Actor, sha256: str, size: int, content_type: str, filename: str) -> bool:
        """Records the document unless the unit already deposited the same bytes; True if recorded."""
        if sha256 in self.documents:
            return False
        self.trigger_event(
            Dossier.DocumentDeposited, actor=actor_record(actor), sha256=sha256, size=size,
            content_type=content_type, filename=filename,
        )
        return True

    def holds(self, sha256: str) -> bool:
        return sha256 in self.documents



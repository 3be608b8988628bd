"""Events stored before the domain moved into shared.domain still replay.

A stored event names its class by its module path. The ledgers written before the
move hold `shared.case:Case.Submitted` and the like; reading them must give the
classes where they live now, with their upcasters.
"""

import pytest
from eventsourcing.utils import resolve_topic

from shared.domain.allocation import Allocation
from shared.domain.call import Call
from shared.domain.case import Case
from shared.domain.dossier import Dossier
from shared.domain.panel import Panel
from shared.domain.publication_list import PublicList
from shared.infra import ledger


@pytest.mark.parametrize("topic, expected", [
    ("shared.case:Case", Case),
    ("shared.case:Case.Submitted", Case.Submitted),
    ("shared.case:Case.ThirdPartyEvaluated", Case.ThirdPartyEvaluated),
    ("shared.call:Call.CallAmended", Call.CallAmended),
    ("shared.allocation:Allocation.PlaceTaken", Allocation.PlaceTaken),
    ("shared.panel:Panel", Panel),
    ("shared.dossier:Dossier", Dossier),
    ("shared.publication_list:PublicList", PublicList),
])
def test_an_old_topic_resolves_to_the_class_where_it_lives_now(topic, expected):
    assert ledger.LEGACY_TOPICS  # the registration runs when the ledger module is imported
    assert resolve_topic(topic) is expected


def test_a_case_stored_under_the_old_module_path_replays(tmp_path):
    """A ledger written before the move: its rows name `shared.case:…`, and the case still loads."""
    import sqlite3

    from shared.infra.ledger import CaseLedger
    from tests.unit.parties import APPLICANT

    url = f"sqlite:///{tmp_path}/ledger.db"
    intake = CaseLedger(url, owner="intake")
    case = Case.submit(
        actor=APPLICANT, call_id="SAMPLE-call", call_version=1, program="signature_product",
        direction="SAMPLE", applicant={"credit_code": APPLICANT["org"], "name": "SAMPLE"},
        province="420000", city=None, chain=["province"], public_notice_required=True,
        title="SAMPLE", application={},
    )
    intake.save_case(case)
    intake.close()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        events = next(t for t in tables if t.endswith("_events"))
        new_topic = f"{Case.__module__}:Case.Submitted"
        changed = db.execute(f"UPDATE {events} SET topic = 'shared.case:Case.Submitted' WHERE topic = ?",
                             (new_topic,)).rowcount
    assert changed == 1

    reader = CaseLedger(url)
    try:
        again = reader.get_case(case.id)
        assert again.state == "submitted" and again.title == "SAMPLE"
        assert [e.type for e in reader.history(case.id)] == ["Submitted"]
    finally:
        reader.close()

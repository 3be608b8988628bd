"""Events stored before the domain moved into shared.domain, or before the case became a package, still replay;
so do events stored in an earlier shape of their class (an older `class_version`), through its upcaster.

A stored event names its class by its module path. The ledgers written before the
first move hold `shared.case:Case.Submitted` and the like, those written before the
second `shared.domain.case:Case.Submitted`; reading them must give the classes where
they live now (`shared.domain.case.aggregate:Case.Submitted`), with their upcasters.
"""

import pytest
from eventsourcing.utils import resolve_topic

from shared.domain.allocation import Allocation
from shared.domain.call import Call
from shared.domain.case import EVENT_TYPES, Case, State
from shared.domain.dossier import Dossier
from shared.domain.panel import Panel
from shared.domain.publication_list import PublicList
from shared.domain.registration_area import NOT_CHECKED, Outcome, check_registration_area
from shared.infra import ledger
from shared.infra.ledger import CaseLedger
from tests.samples import filed_case
from tests.unit.parties import APPLICANT


@pytest.mark.parametrize("topic, expected", [
    ("shared.case:Case", Case),
    ("shared.domain.case:Case", Case),
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


OLD_CASE_MODULES = ("shared.case", "shared.domain.case")


@pytest.mark.parametrize("old_module", OLD_CASE_MODULES)
@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_of_a_case_resolves_from_both_old_paths(old_module, name):
    assert resolve_topic(f"{old_module}:Case.{name}") is EVENT_TYPES[name] is getattr(Case, name)
    assert EVENT_TYPES[name].__module__ == "shared.domain.case.aggregate"


@pytest.mark.parametrize("old_module", OLD_CASE_MODULES)
def test_version_1_events_stored_under_an_old_path_are_upcast(tmp_path, old_module):
    """A whole case stored under `old_module`, its evaluation and objection in their version 1 shape."""
    import json
    import sqlite3

    from tests.unit.test_case_transitions import OC_CITY, path_to, submit

    url = f"sqlite:///{tmp_path}/ledger.db"
    case = submit(OC_CITY)
    writers = {owner: CaseLedger(url, owner=owner) for owner in ("intake", "verification", "review", "publication")}
    writers["intake"].save_case(case)
    for step in path_to(OC_CITY, State.NOTICE_OPEN, open_objection=True):
        step.run(case)
        writers[step.owner].save_case(case)
    for writer in writers.values():
        writer.close()

    added_in_v2 = {"Submitted": "registration_check", "ThirdPartyEvaluated": "assessment",
                   "ObjectionRaised": "evidence"}
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        events = next(t for t in tables if t.endswith("_events"))
        rows = db.execute(f"SELECT rowid, topic, state FROM {events}").fetchall()
        assert len(rows) == case.version
        for rowid, topic, state in rows:
            module, _, qualname = topic.partition(":")
            assert module == "shared.domain.case.aggregate" and qualname.startswith("Case.")
            name = qualname.removeprefix("Case.")
            if name in added_in_v2:
                stored = json.loads(state)
                assert stored.pop("class_version") == 2
                del stored[added_in_v2[name]]
                state = json.dumps(stored).encode()
            db.execute(f"UPDATE {events} SET topic = ?, state = ? WHERE rowid = ?",
                       (f"{old_module}:{qualname}", state, rowid))

    reader = CaseLedger(url)
    try:
        again = reader.get_case(case.id)
        assert again.state == State.NOTICE_OPEN and again.open_objections == ["obj-1"]
        assert again.version == case.version and again.milestones == case.milestones
        assert again.registration_check == NOT_CHECKED  # filed before areas were compared
        history = {e.type: e.payload for e in reader.history(case.id)}
        assert history["Submitted"]["registration_check"] == NOT_CHECKED.as_record()
        assert history["Submitted"]["title"] == case.title
        assert history["ThirdPartyEvaluated"]["assessment"] == []  # recorded before targets were assessed
        assert history["ThirdPartyEvaluated"]["conclusion"] == "通过"
        assert history["ObjectionRaised"]["evidence"] == []
        assert history["ObjectionRaised"]["reasons"] == "知识产权存在争议"
    finally:
        reader.close()


def test_a_case_stored_under_the_old_module_path_replays(tmp_path):
    """A ledger written before the move: its rows name `shared.case:…`, and the case still loads."""
    import sqlite3

    url = f"sqlite:///{tmp_path}/ledger.db"
    intake = CaseLedger(url, owner="intake")
    case = filed_case(APPLICANT)
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


def test_a_version_1_submission_replays_as_not_checked_never_as_matching(tmp_path):
    """A case filed before the registration area was compared: its `Submitted` has no check at all."""
    import json
    import sqlite3

    url = f"sqlite:///{tmp_path}/ledger.db"
    intake = CaseLedger(url, owner="intake")
    case = filed_case(APPLICANT)  # its code's area and its region agree: a fresh filing would match
    assert case.registration_check == check_registration_area(APPLICANT["org"], "420000", None)
    assert case.registration_check.outcome == Outcome.MATCHES
    intake.save_case(case)
    intake.close()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        events = next(t for t in tables if t.endswith("_events"))
        (rowid, state), = db.execute(f"SELECT rowid, state FROM {events}").fetchall()
        stored = json.loads(state)
        assert stored.pop("class_version") == 2
        del stored["registration_check"]
        db.execute(f"UPDATE {events} SET state = ? WHERE rowid = ?", (json.dumps(stored).encode(), rowid))

    reader = CaseLedger(url)
    try:
        again = reader.get_case(case.id)
        assert again.registration_check == NOT_CHECKED and not again.registration_check.mismatch
        assert again.registration_check.outcome == Outcome.NOT_CHECKED != case.registration_check.outcome
        assert reader.history(case.id)[0].payload["registration_check"]["outcome"] == "not_checked"
    finally:
        reader.close()

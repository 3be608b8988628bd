"""An operator rebuilds a stopped service's read models from the ledger, and nothing else.

`caseplatform rebuild-readmodels <service>` on real PostgreSQL: a ledger of SAMPLE cases
(written with the real aggregates by the benchmarks' seeder), a read model damaged by
hand, and the rebuild putting back exactly what the ledger says; refused while the
service is running.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa

from bench.seed import Seeder
from services.cli.main import main
from services.review import readmodels as review_rm
from shared.domain.case import Case
from shared.infra.config import SERVICES, sqlalchemy_url
from shared.infra.ledger import CaseLedger
from shared.infra.readmodels.rebuild import integration_events, subscribed

pytestmark = pytest.mark.integration

CALL = "sample-2026-rebuild"


@pytest.fixture
def world(make_database, monkeypatch, tmp_path):
    ledger_url, readmodel_url = make_database("ledger"), make_database("review")
    seeder = Seeder(ledger_url, CALL)
    try:
        cases = seeder.cases(3, "typical") + seeder.cases(2, "awaiting_province")
    finally:
        seeder.close()
    monkeypatch.setenv("CASEPLATFORM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEDGER_URL", ledger_url)
    monkeypatch.setenv("READMODEL_URL", readmodel_url)  # every service's URL: only review's is used here
    engine = sa.create_engine(sqlalchemy_url(readmodel_url), poolclass=sa.pool.NullPool)
    yield ledger_url, readmodel_url, [case_id for case_id, _ in cases], engine
    engine.dispose()


def review_rows(engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        return {r.case_id: (r.state, r.version) for r in conn.execute(sa.select(review_rm.review_cases))}


def what_the_ledger_says(ledger_url: str, case_ids: list[str]) -> tuple[dict, int]:
    """Each case's state and version, and how many log events review's queue binds."""
    ledger = CaseLedger(ledger_url, owner=None)
    try:
        cases = {case_id: ledger.get_case(case_id) for case_id in case_ids}
        bound = sum(1 for key, _ in integration_events(ledger) if subscribed("review", key))
    finally:
        ledger.close()
    assert all(isinstance(c, Case) for c in cases.values())
    return {case_id: (c.state, c.version) for case_id, c in cases.items()}, bound


def processed(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM processed_events")).scalar_one()


def test_a_damaged_read_model_is_rebuilt_to_what_the_ledger_says(world, capsys):
    ledger_url, _, case_ids, engine = world
    expected, bound = what_the_ledger_says(ledger_url, case_ids)
    # awaiting the province is still "submitted"
    assert {state for state, _ in expected.values()} == {"published", "submitted"}

    assert main(["rebuild-readmodels", "review"]) == 0
    assert review_rows(engine) == expected
    assert processed(engine) == bound
    assert "review: read models rebuilt from" in capsys.readouterr().out

    with engine.begin() as conn:  # damage: a row gone, a row wrong, a stray row
        conn.execute(review_rm.review_cases.delete().where(review_rm.review_cases.c.case_id == case_ids[0]))
        conn.execute(review_rm.review_cases.update().where(review_rm.review_cases.c.case_id == case_ids[1])
                     .values(state="rejected", version=2))
        conn.execute(sa.text("DELETE FROM processed_events WHERE message_id IN "
                             "(SELECT message_id FROM processed_events LIMIT 3)"))
    assert review_rows(engine) != expected

    assert main(["rebuild-readmodels", "review"]) == 0
    assert review_rows(engine) == expected
    assert processed(engine) == bound


def test_refused_while_the_service_is_running_and_nothing_is_touched(world, capsys):
    _, readmodel_url, case_ids, engine = world
    assert main(["rebuild-readmodels", "review"]) == 0
    with engine.begin() as conn:
        conn.execute(review_rm.review_cases.delete().where(review_rm.review_cases.c.case_id == case_ids[0]))
    damaged = review_rows(engine)
    capsys.readouterr()

    # A running review service holds connections named caseplatform-review-… (shared/infra/pools.py).
    with psycopg.connect(readmodel_url, application_name="caseplatform-review-readmodel"):
        assert main(["rebuild-readmodels", "review"]) == 1
    err = capsys.readouterr().err
    assert "the review service is running" in err and "caseplatform-review-readmodel" in err
    assert review_rows(engine) == damaged

    # Only review's own names count: a name that merely begins like them does not.
    with psycopg.connect(readmodel_url, application_name="caseplatform-reviewer-tool"):
        assert main(["rebuild-readmodels", "review"]) == 0
    assert case_ids[0] in review_rows(engine)


def test_what_the_services_write_from_their_commands_survives_a_rebuild(world, capsys):
    """A rebuild replaces what the events make, and nothing else: an applicant's draft, the claim that
    keeps a unit to one application per direction, and an authority's contact are written by
    commands, not derived from any event, so no replay could bring them back (before this, the
    rebuild of intake lost every draft and every claim, and verification's lost every contact)."""
    from services.intake import readmodels as intake_rm
    from services.verification import readmodels as verification_rm

    _, _, case_ids, engine = world
    kept = {
        intake_rm.drafts: {"draft_id": "d" * 32, "applicant": "91420100000000001Y", "call_id": CALL,
                           "form": '{"title": "SAMPLE draft"}', "updated_at": datetime(2026, 12, 5, 8, tzinfo=UTC)},
        intake_rm.claims: {"call_id": CALL, "applicant": "91420100000000001Y", "subject": "direction:SAMPLE-R1",
                           "case_id": case_ids[0]},
        verification_rm.authority_contacts: {"authority": "420000", "name": "SAMPLE 赵联络", "post": "SAMPLE 处长",
                                             "title": "", "phone": "13600136000", "updated_at": "2026-12-05"},
    }
    for module in (intake_rm, verification_rm):
        module.metadata.create_all(engine)
    with engine.begin() as conn:
        for table, row in kept.items():
            conn.execute(table.insert().values(**row))

    assert main(["rebuild-readmodels", "intake"]) == 0
    assert main(["rebuild-readmodels", "verification"]) == 0
    with engine.connect() as conn:
        for table, row in kept.items():
            assert [dict(r._mapping) for r in conn.execute(sa.select(*[table.c[k] for k in row]))] == [row], table.name
        # and what the events make is made again
        assert conn.execute(sa.select(sa.func.count()).select_from(intake_rm.applicant_cases)).scalar_one() == len(
            case_ids)


@pytest.mark.parametrize("service", SERVICES)
def test_the_rebuild_in_memory_writes_exactly_what_the_rebuild_in_the_database_writes(world, make_database, service):
    """The shipped rebuild projects into SQLite in memory and writes each table in bulk; applying every
    event straight into PostgreSQL must give the same rows in every table (the time each row was
    processed aside)."""
    from shared.infra.readmodels.rebuild import Rebuilder
    from shared.infra.readmodels.store import derived_tables

    ledger_url = world[0]
    urls = {"in memory": make_database(f"{service}_mem"), "batched": make_database(f"{service}_db")}
    ledger = CaseLedger(ledger_url, owner=None)
    contents = {}
    try:
        for way, url in urls.items():
            rebuilder = Rebuilder(service, url)
            try:
                result = rebuilder.in_memory(ledger) if way == "in memory" else rebuilder.batched(ledger)
                assert result["applied"] > 0 or service == "documents"  # the seeder deposits no evidence
                with rebuilder.store.engine.connect() as conn:
                    contents[way] = {
                        table.name: sorted(repr({k: v for k, v in r._mapping.items() if k != "processed_at"})
                                           for r in conn.execute(sa.select(table)))
                        for table in derived_tables(rebuilder.store.metadata)}
            finally:
                rebuilder.close()
    finally:
        ledger.close()
    assert contents["in memory"] == contents["batched"]
    assert sum(len(rows) for rows in contents["in memory"].values()) > 0

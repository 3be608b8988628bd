"""A PostgreSQL ledger beside the default SQLite read models: what `LEDGER_URL=postgresql://…`
alone gives, with every service a process of its own.

There a projection that reads the ledger (notifications loads the case as of each event) waits
on PostgreSQL's socket greenly, mid-transaction on its SQLite read model, while the same process
serves requests that write to that database (PUT /notifications/me, a person's choice). SQLite
makes a second writer wait in a busy handler that blocks the whole process, so the two waited
for each other for the busy timeout, 30 s (tests/unit/test_readmodel_sqlite_writers.py shows
it alone). Here the whole walk runs with those requests beside it.
"""

import threading

import pytest

from services.cli.demo import public_entries, walk_open_competition
from shared.infra.config import SERVICES
from tests.e2e.test_case_end_to_end import _processed

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def mixed(make_database, amqp_uri, s3_settings, tmp_path_factory):
    from tests.support.localsystem import start_system

    data_dir = tmp_path_factory.mktemp("mixed")
    system = start_system(data_dir=data_dir, ledger_url=make_database("ledger"),
                          readmodel_urls={s: f"sqlite:///{data_dir}/{s}.db" for s in SERVICES},
                          amqp_uri=amqp_uri, s3_settings=s3_settings)
    try:
        yield system
    finally:
        system.stop()


def test_a_case_walks_through_with_requests_writing_beside_the_projections(mixed):
    platform = mixed.platform
    walking = threading.Event()
    asked: list[int] = []

    def choose_profile_mail():  # each call writes the person's choice to notifications' read model
        while walking.is_set():
            platform.call("applicant", "PUT", "notifications", "/me", json_body={"use_profile_email": True})
            asked.append(1)

    walking.set()
    beside = threading.Thread(target=choose_profile_mail)
    beside.start()
    try:
        walked = walk_open_competition(platform, log=lambda line: None)
        platform.wait_until("the public list to show the case", lambda: public_entries(
            platform, f"{walked['call_id']}:successful", walked["case_id"]))
    finally:
        walking.clear()
        beside.join()
    assert asked, "no request ran beside the walk"
    expected = [f"{walked['case_id']}:{v}" for v in range(1, walked["version"] + 1)]
    for service in SERVICES:
        assert platform.wait_until(f"{service} to apply every event", lambda s=service: (
            lambda got: got if got == expected else None)(_processed(mixed.readmodel_urls[s], walked["case_id"]))
        ) == expected
    for service, log in mixed.logs.items():
        assert "database is locked" not in log.read_text(), service

"""The notifications service on SQLite read models, the default of `caseplatform run`, against
real RabbitMQ: the first event it ever hears is applied on its first attempt.

Its kept tables (the outbox, the addresses people gave it) were made by the first worker that
needed them. When that was the worker applying an event, it made them on a second connection
while its own transaction held SQLite's write lock: the worker waited for itself until the
busy timeout (30 s) and failed, and the whole process waited with it, the relay it may run
included. `caseplatform demo` then timed out, 20 s after a submission, waiting for the
documents the relay had not yet published (a CI failure, twice).
"""

import pytest
import sqlalchemy as sa
from nameko.testing.services import entrypoint_waiter

from services.notifications import readmodels
from services.notifications.service import NotificationsService
from shared.infra.config import Settings
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.contracts import integration_event
from tests.integration.test_subscriber import publish
from tests.unit.test_contracts import submitted_case

pytestmark = pytest.mark.integration


def test_the_first_event_is_applied_at_once_on_sqlite_read_models(container_factory, make_vhost, tmp_path):
    amqp = make_vhost("notify-first")
    ledger_url = f"sqlite:///{tmp_path}/ledger.db"
    ledger = CaseLedger(ledger_url, owner="intake")
    case = submitted_case()
    ledger.save_case(case)
    (submitted,) = (integration_event(e, None) for e in ledger.events.get(case.id))
    settings = Settings.from_env({
        "CASEPLATFORM_DATA_DIR": str(tmp_path), "LEDGER_URL": ledger_url, "AMQP_URI": amqp,
        "READMODEL_URL": f"sqlite:///{tmp_path}/{{service}}.db", "RELAY_IN_PROCESS": "false",
        # No timer runs before the event: the event is the first thing that needs the tables.
        "NOTIFY_DELIVERY_INTERVAL": "3600", "REMINDER_SCAN_INTERVAL": "3600", "DIGEST_SCAN_INTERVAL": "3600",
        "RETENTION_SCAN_INTERVAL": "3600", "MAX_DELIVERY_ATTEMPTS": "3",
    })
    config = settings.nameko_config("notifications")
    config["WEB_SERVER_ADDRESS"] = "127.0.0.1:0"
    container = container_factory(NotificationsService, config)
    container.start()
    try:
        engine = sa.create_engine(f"sqlite:///{tmp_path}/notifications.db")
        assert set(readmodels.kept.tables) <= set(sa.inspect(engine).get_table_names()), \
            "the kept tables are made when the service starts, before any worker"
        with entrypoint_waiter(container, "on_case_event", timeout=20) as result:
            publish(amqp, submitted)  # as the relay does
        result.get()  # raises what the worker raised: "database is locked" before the fix
        with engine.connect() as rows:
            processed = rows.execute(sa.text("SELECT message_id FROM processed_events")).scalars().all()
            summary = rows.execute(sa.select(readmodels.notify_cases.c.case_id)).scalars().all()
        assert processed == [submitted["message_id"]]
        assert summary == [str(case.id)]
        engine.dispose()
    finally:
        ledger.close()

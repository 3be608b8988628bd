"""What counts as an outage: a database or the object store unreachable, not a fault of the request or event.

An outage is answered differently from a bad input or a bug. An HTTP command meets it as
503 (retry later; a PostgreSQL transaction commits whole or not at all, so nothing is
half-saved), and an event a consumer could not apply because of it goes back to its queue
without using one of its delivery attempts: an outage longer than the retries must not
park every event that arrived during it (see shared.infra.messaging.subscriber.LedgerSubscriber).
"""

from __future__ import annotations

import psycopg
import sqlalchemy as sa
from eventsourcing.persistence import InterfaceError as LedgerInterfaceError
from eventsourcing.persistence import OperationalError as LedgerOperationalError

from shared.infra.objectstore.errors import StoreUnavailable

# Connection refused, reset or lost, a pool that could not hand out a connection in
# time, a server shutting down, a deadlock or serialisation failure: all of them pass,
# and a retry of the same work later is right. A constraint violated, a bad statement
# or a permission refused are not outages: retrying cannot mend them.
OUTAGES = (
    sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
    psycopg.OperationalError, psycopg.InterfaceError,
    LedgerOperationalError, LedgerInterfaceError,
    StoreUnavailable, ConnectionError, TimeoutError,
)


def is_outage(exc: BaseException | None) -> bool:
    """True if `exc`, or an exception it was raised from, is an outage."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OUTAGES):
            return True
        if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
            return True
        seen.add(id(exc))
        # What it was raised from, or while handling (unless `raise ... from None` hid it).
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return False

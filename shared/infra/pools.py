"""PostgreSQL connection pools: sized by settings, and named, so pg_stat_activity says who holds each connection.

Every connection a service process opens carries the `application_name`
`caseplatform-<service>-<pool>`, where the pool is one of:

- `ledger`: the service's ledger, for its commands and reads (eventsourcing's psycopg pool);
- `relay-log`: the outbox relay reading the ledger's notification log;
- `relay`: the relay's leadership lock and its position;
- `relay-listen`: the leading relay's `LISTEN` for the ledger's commits (one, on the leader only);
- `readmodel`: the service's read models (SQLAlchemy);
- and `caseplatform-<service>` for anything else the process opens (the audit
  service's checkpoint follower, table creation at start-up).

    SELECT application_name, count(*) FROM pg_stat_activity GROUP BY 1 ORDER BY 2 DESC;

Sizes: each pool keeps `size` connections open when idle and opens up to `max_overflow`
more under load; a request that finds the pool at its maximum waits for a connection
(30 s at most) instead of opening one more. The defaults are in shared/infra/config.py.
"""

from __future__ import annotations

import os

from eventsourcing.postgres import PostgresFactory

PREFIX = "caseplatform"
APPLICATION_NAME = "POSTGRES_APPLICATION_NAME"  # read by NamedPostgresFactory from the ledger's env
MAX_NAME = 63  # PostgreSQL keeps the first 63 bytes of an application_name
IDLE_SECONDS = 60.0  # a ledger pool closes connections beyond its size idle this long


def application_name(service: str | None, pool: str | None = None) -> str:
    return "-".join(part for part in (PREFIX, service or "cli", pool) if part)[:MAX_NAME]


def name_this_process(service: str) -> None:
    """libpq's default application_name for the connections of this process that name no pool."""
    os.environ.setdefault("PGAPPNAME", application_name(service))


class NamedPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL persistence, with `application_name` on every connection of its pool."""

    def __init__(self, env):
        super().__init__(env)
        pool = self.datastore.pool
        name = self.env.get(APPLICATION_NAME)
        if name:
            # The datastore creates its pool closed and opens it at the first query, so
            # every connection the pool ever makes is made with these arguments.
            connect_args = pool.kwargs
            if not isinstance(connect_args, dict):
                raise TypeError(f"eventsourcing's pool no longer takes its connection arguments as a dict "
                                f"({type(connect_args).__name__}): its connections cannot be named")
            connect_args["application_name"] = name[:MAX_NAME]
        # Back to `size` connections after a minute without use, not psycopg_pool's ten:
        # six processes' bursts should not hold the server's connections for long.
        pool.max_idle = IDLE_SECONDS


def engine_options(url: str, *, name: str | None, size: int, max_overflow: int) -> dict:
    """create_engine() arguments for a pool of `size` idle connections and `max_overflow` more, named `name`."""
    if not url.startswith(("postgresql", "postgres")):
        return {}
    options: dict = {"pool_size": size, "max_overflow": max_overflow}
    if name:
        options["connect_args"] = {"application_name": name[:MAX_NAME]}
    return options

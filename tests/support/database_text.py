"""Everything a PostgreSQL database holds, as one text: for tests that a value is stored nowhere."""

from __future__ import annotations

import sqlalchemy as sa

from shared.infra.config import sqlalchemy_url


def database_text(url: str) -> str:
    """Every cell of every table of the public schema (bytes decoded as UTF-8), one per line."""
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            tables = list(conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                          .scalars())
            return "\n".join(_cell(cell) for table in tables
                             for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')).all() for cell in row)
    finally:
        engine.dispose()


def _cell(cell) -> str:
    if isinstance(cell, (bytes, memoryview)):
        return bytes(cell).decode("utf-8", errors="replace")
    return str(cell)

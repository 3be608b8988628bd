"""Throwaway PostgreSQL databases and RabbitMQ vhosts on existing servers, uniquely named
and removed at close(): what the tests (tests/infra.py) and the benchmarks (bench/) run on.

No pytest and no nameko here: importable before eventlet's monkey patching.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import uuid
import warnings
from urllib.parse import quote, urlsplit, urlunsplit


def unique_name(prefix: str = "cp_test", hint: str = "") -> str:
    """A lower-case identifier usable as a database or vhost name."""
    hint = re.sub(r"[^a-z0-9_]", "_", hint.lower())[:20]
    return "_".join(part for part in (prefix, uuid.uuid4().hex[:12], hint) if part)


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, parts.fragment))


# ----------------------------------------------------------------------- PostgreSQL


class Databases:
    """Creates uniquely named databases on one server; drops them all at close()."""

    def __init__(self, admin_url: str, prefix: str = "cp_test"):
        self.admin_url = admin_url  # a URL of the maintenance db ("postgres")
        self.prefix = prefix
        self.created: list[str] = []

    def _connect(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10)

    def create(self, hint: str = "") -> str:
        from psycopg import sql

        name = unique_name(self.prefix, hint)
        with self._connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return with_path(self.admin_url, name)

    def drop(self, name: str) -> None:
        from psycopg import sql

        with self._connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        import psycopg

        errors = []
        while self.created:
            name = self.created.pop()
            try:
                self.drop(name)
            except psycopg.Error as exc:  # keep dropping the others
                errors.append(f"{name}: {exc}")
        if errors:
            warnings.warn("could not drop test databases: " + "; ".join(errors), stacklevel=2)


# ------------------------------------------------------------------------- RabbitMQ


class Vhosts:
    """Creates RabbitMQ vhosts with rabbitmqctl (or `docker exec ... rabbitmqctl`)."""

    def __init__(self, base_uri: str, rabbitmqctl: list[str] | None = None, prefix: str = "cp_test"):
        self.base_uri = base_uri
        self.prefix = prefix
        parts = urlsplit(base_uri)
        self.user = parts.username or "guest"
        self.ctl = rabbitmqctl if rabbitmqctl is not None else self._local_ctl()
        self.created: list[str] = []

    @staticmethod
    def _local_ctl() -> list[str] | None:
        return ["rabbitmqctl"] if shutil.which("rabbitmqctl") else None

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.ctl, "-q", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"`{' '.join([*self.ctl, *args])}` failed "
                               f"({result.returncode}): {result.stdout.strip()}")

    def create(self, hint: str = "") -> str:
        """A new vhost the URI's user may use fully; returns its AMQP URI."""
        if self.ctl is None:
            warnings.warn("rabbitmqctl is not available: tests share the broker's default vhost", stacklevel=2)
            return self.base_uri
        name = unique_name(self.prefix, hint)
        try:
            self._run("add_vhost", name)
        except RuntimeError as exc:
            warnings.warn(f"cannot create a RabbitMQ vhost ({exc}); "
                          "tests share the broker's default vhost", stacklevel=2)
            return self.base_uri
        self.created.append(name)
        self._run("set_permissions", "-p", name, self.user, ".*", ".*", ".*")
        return with_path(self.base_uri, quote(name, safe=""))

    def close(self) -> None:
        self.delete(list(self.created))

    def delete(self, names: list[str]) -> None:
        """Deletes these vhosts (of the ones this made), their queues with them."""
        names = [n for n in names if n in self.created]
        if not names:
            return
        # kombu keeps pooled connections per vhost; drop them first so nothing tries
        # to reconnect to a vhost that is gone.
        with contextlib.suppress(Exception):
            from kombu.pools import connections

            connections.force_close_all()
        # rabbitmqctl takes most of a second to start: delete them all at once
        running = []
        for name in names:
            self.created.remove(name)
            running.append((name, subprocess.Popen(
                [*self.ctl, "-q", "delete_vhost", name], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for name, proc in running:
            try:
                output, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            if proc.returncode != 0:
                warnings.warn(f"could not delete RabbitMQ vhost {name}: {output.strip()}", stacklevel=2)

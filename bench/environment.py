"""What a benchmark run stands on, set up the way the tests set it up and removed at the end.

Fresh PostgreSQL databases and a fresh RabbitMQ vhost on the local servers
(`tests.support.throwaway`, the same classes tests/infra.py uses; started by
`services.cli.localinfra.system_services` if they are down), a SeaweedFS S3 server on free
ports (`services.cli.localinfra.s3.S3Server`), and the six services as separate processes
(`tests.support.localsystem`, as tests/e2e/conftest.py starts them). Nothing of the
shared servers is reconfigured: the run only creates and drops its own
databases and vhost (named cp_bench_…).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from services.cli.localinfra.s3 import S3Server
from services.cli.localinfra.system_services import ensure_postgres, ensure_rabbitmq
from tests.support.localsystem import LocalSystem, start_system
from tests.support.throwaway import Databases, Vhosts

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
S3_ACCESS_KEY = "caseplatform-bench"
S3_SECRET_KEY = "caseplatform-bench-secret"


class BenchEnvironment:
    """Context manager: databases, a vhost, an S3 server and service processes for one run."""

    def __init__(self):
        # The same variables the tests read, so one setting points both at other servers.
        self.postgres_admin_url = os.environ.get("TEST_POSTGRES_URL", POSTGRES_URL)
        self.amqp_base_uri = os.environ.get("TEST_AMQP_URI", AMQP_URI)
        self.data_dir = Path(tempfile.mkdtemp(prefix="cp-bench-"))
        self._databases: Databases | None = None
        self._vhosts: Vhosts | None = None
        self._s3: S3Server | None = None
        self._systems: list[LocalSystem] = []

    def __enter__(self) -> BenchEnvironment:
        ensure_postgres(self.postgres_admin_url)
        ensure_rabbitmq(self.amqp_base_uri)
        self._databases = Databases(self.postgres_admin_url, prefix="cp_bench")
        self._vhosts = Vhosts(self.amqp_base_uri, prefix="cp_bench")
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def database(self, hint: str = "") -> str:
        """URL of a new, empty database, dropped at the end of the run."""
        return self._databases.create(hint)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1]
        self._databases.drop(name)
        self._databases.created.remove(name)

    def vhost(self) -> str:
        return self._vhosts.create("bench")

    @property
    def s3_settings(self) -> dict:
        if self._s3 is None:
            self._s3 = S3Server(self.data_dir / "s3", S3_ACCESS_KEY, S3_SECRET_KEY, port=None).start()
        return {"endpoint": self._s3.endpoint, "access_key": S3_ACCESS_KEY, "secret_key": S3_SECRET_KEY,
                "secure": False}

    def start_system(self, *, ledger_url: str, readmodel_urls: dict[str, str], extra_env: dict | None = None,
                     name: str = "platform", identity=None) -> LocalSystem:
        """Every service as a process; with `identity` (another system's provider), a second set of
        processes beside that system's, under `name`, signing checkpoints with the same key."""
        data_dir = self.data_dir / name
        data_dir.mkdir(parents=True, exist_ok=True)
        if identity is not None:
            extra_env = {"CHECKPOINT_KEY_PATH": str(self.data_dir / "platform" / "checkpoint-ed25519.pem"),
                         **(extra_env or {})}
        # A second set shares the first's broker vhost (the same queues: competing consumers).
        amqp_uri = self._systems[0].platform.settings.amqp_uri if identity is not None and self._systems \
            else self.vhost()
        system = start_system(data_dir=data_dir, ledger_url=ledger_url, readmodel_urls=readmodel_urls,
                              amqp_uri=amqp_uri, s3_settings=self.s3_settings, extra_env=extra_env,
                              identity=identity)
        self._systems.append(system)
        return system

    def stop_system(self, system: LocalSystem) -> None:
        system.stop()
        if system in self._systems:
            self._systems.remove(system)

    def close(self) -> None:
        while self._systems:
            self._systems.pop().stop()
        if self._vhosts is not None:
            self._vhosts.close()
        if self._databases is not None:
            self._databases.close()
        if self._s3 is not None:
            self._s3.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

"""A RabbitMQ node of the test's own, to restart: the shared broker on 5672 is never touched.

Its own node name, AMQP and distribution ports, database and logs under a temporary
folder, a configuration file of its own (so it does not read the system's listener on
5672) and no plugins. It runs in the foreground as the test's child, in a process group
of its own, and `close()` stops it (or kills the group). `restart()` is `stop_app` then
`start_app`: the broker closes every connection and drops what is not durable, then
recovers its durable queues and persistent messages from disk, as after a restart.

Needs the server's own scripts (`/usr/lib/rabbitmq/bin`, Debian's layout): the
`rabbitmq-server` wrapper on PATH switches to the rabbitmq user and the system's node.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
from pathlib import Path

from services.cli.localinfra.ports import free_port
from tests.infra import wait_for_amqp

BIN = Path(os.environ.get("RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))


def available() -> bool:
    return (BIN / "rabbitmq-server").exists() and (BIN / "rabbitmqctl").exists()


class PrivateRabbitMQ:
    def __init__(self, base: Path):
        self.base = base
        self.node = f"cpfaults{secrets.token_hex(3)}@localhost"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        base.mkdir(parents=True, exist_ok=True)
        (base / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (base / "enabled_plugins").write_text("[].\n")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")},
            "HOME": str(base),  # its own Erlang cookie, which rabbitmqctl below reads too
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(base / "node.pid"),
        }

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> PrivateRabbitMQ:
        with (self.base / "server.out").open("w") as out:
            self.proc = subprocess.Popen([str(BIN / "rabbitmq-server")], env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        try:
            wait_for_amqp(self.amqp_uri, timeout=90)
        except BaseException:
            self.close()
            raise
        return self

    def ctl(self, *args: str) -> None:
        subprocess.run([str(BIN / "rabbitmqctl"), "-q", "-n", self.node, *args], env=self.env, check=True,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)

    def restart(self) -> None:
        """The broker application stopped (every connection closed) and started again from its disk."""
        self.ctl("stop_app")
        self.ctl("start_app")
        wait_for_amqp(self.amqp_uri, timeout=90)

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(Exception):
            self.ctl("stop")
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # Erlang's port mapper and anything else the node started in its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

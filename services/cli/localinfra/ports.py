"""TCP ports on this machine: whether one answers or is free, waiting for one, and loopback hosts."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def port_bindable(port: int, host: str = "127.0.0.1") -> bool:
    """True when this process could listen on host:port now (nothing bound, nothing answering)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return not port_open(host, port, timeout=0.2)


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, chosen below the kernel's ephemeral range.

    A port the kernel hands out for `bind(0)` comes from the range it also gives outgoing
    connections: between choosing it and the server binding it, a process's new connection to
    PostgreSQL or RabbitMQ could take it ("Address already in use"). Below that range only
    listeners take ports, so a random one that binds now stays free far more surely."""
    low, _ = _ephemeral_range()
    lowest = 10000 if low > 12000 else 1024
    for _ in range(200):
        port = random.randrange(lowest, low)
        if port_bindable(port, host):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # every try taken: the kernel's choice
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 60.0, what: str = "service",
                  proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before "
                               f"{host}:{port} answered")
        time.sleep(0.25)
    raise RuntimeError(f"{what} did not answer on {host}:{port} within {timeout:.0f} s")


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """The host and port a URL names; the loopback address and `default_port` where it names none."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def is_loopback(host: str) -> bool:
    """A host on this machine: a server there may be started here."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")

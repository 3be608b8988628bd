"""TCP ports on this machine: whether one answers or is free, waiting for one, and loopback hosts."""

from __future__ import annotations

import socket
import subprocess
import time
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
    """True when this process could listen on host:port now (nothing bound, nothing answering).

    With SO_REUSEADDR, as every server here listens (SeaweedFS, eventlet, Node): a port whose
    last connections wait out TIME_WAIT after a stop is free to them, and a bind without it
    refused `caseplatform run` started again within a minute of the last one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return not port_open(host, port, timeout=0.2)


_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's choice), never one this process handed out
    before: the kernel may give a port closed a moment ago again, and two servers started with the
    same one would collide (or, with SO_REUSEPORT, share its connections)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


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

"""Two servers must never end up on one port (a rehearsal had documents answering intake's requests):
the test helpers never hand out a port twice, and a service refuses a port another process holds,
even one that allows sharing (eventlet's default)."""

from __future__ import annotations

import errno
import socket
from types import SimpleNamespace

import eventlet
import pytest

from services.cli.localinfra import ports
from shared.infra.web.http import JsonWebServer


def test_free_port_never_hands_out_a_port_twice_even_when_the_kernel_offers_it_again(monkeypatch):
    offered = iter([40001, 40001, 40002, 40001, 40003])

    class Kernel:  # a kernel that gives back a port it handed out a moment ago
        def __init__(self, *args):
            self.port = next(offered)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def bind(self, address):
            pass

        def getsockname(self):
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(ports, "_handed_out", set())
    monkeypatch.setattr(ports.socket, "socket", Kernel)
    assert [ports.free_port(), ports.free_port(), ports.free_port()] == [40001, 40002, 40003]


def test_a_service_refuses_a_port_another_process_listens_on_instead_of_sharing_it():
    taken = eventlet.listen(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    taken.close()
    holder = eventlet.listen(("127.0.0.1", port), reuse_port=True)  # as another service's server would
    try:
        server = JsonWebServer()
        server.container = SimpleNamespace(config={"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"},
                                           spawn_managed_thread=lambda run: None)
        with pytest.raises(OSError) as refused:
            server.start()
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        holder.close()
    assert socket.SO_REUSEPORT  # the platform has the option this guards against

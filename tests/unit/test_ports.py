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


def _closed_by_its_server() -> int:
    """A port whose server answered a connection and closed first: that connection waits out
    TIME_WAIT on the port after the server has gone, as after `caseplatform run` stopped."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()  # the server's side closes first: its end goes to TIME_WAIT
    listener.close()
    client.recv(1)  # the server's FIN
    client.close()
    return port


def test_a_port_in_time_wait_after_its_server_stopped_is_bindable_as_servers_bind():
    """`caseplatform run` started again at once refused to start its S3 server ("port 8333 ...
    already in use") for the minute TIME_WAIT lasts, though the server could listen there."""
    port = _closed_by_its_server()
    with socket.socket() as plain, pytest.raises(OSError) as refused:
        plain.bind(("127.0.0.1", port))  # the check as it was: a bind without SO_REUSEADDR
    assert refused.value.errno == errno.EADDRINUSE
    assert ports.port_bindable(port)
    with socket.socket() as server:  # and a server (SeaweedFS, eventlet, Node all set it) listens there
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()


def test_a_port_a_server_listens_on_is_not_bindable():
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert not ports.port_bindable(server.getsockname()[1])

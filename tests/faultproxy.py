"""A TCP proxy that injects outages between the services and a server (RabbitMQ, PostgreSQL, S3).

`cut()` closes every live connection through the proxy, both ways, with a reset, and
resets every new one at once until `restore()`: to a client this is the server going
away (a broker stopped, a database restarted, a store unplugged) while the real server,
which other tests share, is never touched. `cut_after(n)` arms a cut that fires once `n`
more bytes have gone from clients to the server: an outage in the middle of an upload,
at a byte count rather than at a moment.

During a cut the port keeps listening and resets what it accepts, rather than closing
the listener: a listener closed and reopened could find its port taken meanwhile (the
ports come from the kernel's ephemeral range, which outgoing connections use too), and a
reset at connect time fails a client as fast as a refusal does.

The proxy runs in a process of its own, on asyncio, so that it forwards at full speed
whatever the test process is doing (the tests run under eventlet's monkey patching and
block in places). The test drives it over a one-line text protocol on a second loopback
port: `cut`, `restore`, `cut-after N`, `stats`; each answers one line.

    with FaultProxy("127.0.0.1", 5432, name="postgres") as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
        proxy.cut(); ...; proxy.restore()
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

CHUNK = 64 * 1024
PROJECT_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------- the proxy process


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a dead peer or a dropped network does, not a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class Proxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.is_cut = False
        self.pipes: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.stats = {"accepted": 0, "reset_while_cut": 0, "cuts": 0, "connections_cut": 0,
                      "bytes_up": 0, "bytes_down": 0}
        self.cut_after_bytes: int | None = None  # armed by `cut-after`: up-bytes left before the cut

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            self.stats["reset_while_cut"] += 1
            _reset(client_writer)
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client_writer)
            return
        if self.is_cut:  # cut while connecting
            _reset(server_writer)
            _reset(client_writer)
            return
        self.stats["accepted"] += 1
        pipe = (client_writer, server_writer)
        self.pipes.add(pipe)
        try:
            await asyncio.gather(self._pump(client_reader, server_writer, "bytes_up"),
                                 self._pump(server_reader, client_writer, "bytes_down"))
        finally:
            self.pipes.discard(pipe)
            for writer in pipe:
                writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counter: str) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                self.stats[counter] += len(data)
                if counter == "bytes_up" and self.cut_after_bytes is not None:
                    self.cut_after_bytes -= len(data)
                    if self.cut_after_bytes <= 0:
                        self.cut()
                        return
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # One side ended: end the other, so neither end waits on a half-open pipe.
            writer.transport.abort()

    def cut(self) -> int:
        self.is_cut = True
        self.cut_after_bytes = None
        self.stats["cuts"] += 1
        pipes, self.pipes = list(self.pipes), set()
        for client_writer, server_writer in pipes:
            _reset(client_writer)
            _reset(server_writer)
        self.stats["connections_cut"] += len(pipes)
        return len(pipes)

    def restore(self) -> None:
        self.is_cut = False
        self.cut_after_bytes = None

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await reader.readline()).decode().strip()
            command, _, argument = line.partition(" ")
            if command == "cut":
                answer = f"ok {self.cut()}"
            elif command == "restore":
                self.restore()
                answer = "ok"
            elif command == "cut-after":
                self.cut_after_bytes = int(argument)
                answer = "ok"
            elif command == "stats":
                answer = json.dumps({**self.stats, "live": len(self.pipes), "cut": self.is_cut})
            else:
                answer = f"error unknown command {command!r}"
            writer.write(answer.encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()


async def serve(target_host: str, target_port: int) -> None:
    proxy = Proxy(target_host, target_port)
    listener = await asyncio.start_server(proxy.handle, "127.0.0.1", 0, backlog=512)
    control = await asyncio.start_server(proxy.control, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    control_port = control.sockets[0].getsockname()[1]
    print(f"READY {port} {control_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    proxy.cut()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="host:port of the real server")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    asyncio.run(serve(host or "127.0.0.1", int(port)))


# ------------------------------------------------------------------- the test's handle


class FaultProxy:
    """Starts a proxy process in front of `host:port` and drives it."""

    def __init__(self, host: str, port: int, *, name: str = "proxy", start_timeout: float = 20.0):
        self.target = (host, int(port))
        self.name = name
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.control_port: int | None = None

    def start(self) -> FaultProxy:
        # A plain interpreter without eventlet: run the module as a script from the checkout.
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "tests.faultproxy", f"{self.target[0]}:{self.target[1]}"],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        )
        deadline = time.monotonic() + self.start_timeout
        line = ""
        while time.monotonic() < deadline and not line.startswith("READY"):
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                break
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"the {self.name} fault proxy did not start: {line!r}")
        _, port, control_port = line.split()
        self.port, self.control_port = int(port), int(control_port)
        return self

    def _command(self, line: str) -> str:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as conn:
            conn.sendall(line.encode() + b"\n")
            answer = conn.makefile("r").readline().strip()
        if not answer or answer.startswith("error"):
            raise RuntimeError(f"{self.name} proxy: {line!r} -> {answer!r}")
        return answer

    def cut(self) -> int:
        """Reset every live connection and every new one until `restore()`; returns how many were live."""
        return int(self._command("cut").split()[1])

    def restore(self) -> None:
        self._command("restore")

    def cut_after(self, n_bytes: int) -> None:
        """Cut (as `cut()`) once `n_bytes` more have gone from clients to the server."""
        self._command(f"cut-after {int(n_bytes)}")

    def stats(self) -> dict:
        return json.loads(self._command("stats"))

    @contextlib.contextmanager
    def outage(self):
        """The server unreachable for the duration of the block."""
        self.cut()
        try:
            yield self
        finally:
            self.restore()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<FaultProxy {self.name} 127.0.0.1:{self.port} -> {self.target[0]}:{self.target[1]}>"


if __name__ == "__main__":
    main()

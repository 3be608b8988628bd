"""Streaming uploads through the documents service, beside a direct `minio` SDK put to the same server.

The service reads the body as it arrives, hashes it and spools it (memory up to
8 MiB, then a temporary file), sniffs its type from the first bytes, and then puts
it to S3 in 16 MiB parts, one at a time; the direct put sends the same bytes with the
same part size, one part at a time, into the same bucket, straight from the client.
Both read from the same generator, so neither pays for making the bytes more than the
other. The documents process's resident memory is sampled during each upload, and its
peak (VmHWM, reset before each upload) is reported beside its size before.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable

from minio import Minio

from bench.http import Client
from bench.seed import CITY, PROVINCE, unit_code
from shared.infra.objectstore.store import PART_SIZE
from tests.support.localsystem import LocalSystem

MiB = 1024 * 1024
CHUNK = 1 * MiB
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
FLAT_BOUND_MIB = 40  # what the service may hold at once (see tests/e2e/test_documents.py)


class GeneratedPdf:
    """`size` bytes that sniff as a PDF and never repeat, as an iterator of chunks or a readable stream."""

    def __init__(self, size: int):
        self.size = size
        self.block = os.urandom(CHUNK)
        self.nonce = uuid.uuid4().bytes
        self.offset = 0
        self.buffer = b""

    def _chunk(self, i: int) -> bytes:
        head = PDF_HEAD + self.nonce if i == 0 else i.to_bytes(8, "big") + self.nonce
        length = min(CHUNK, self.size - i * CHUNK)
        return (head + self.block[len(head):])[:length]

    def __iter__(self):
        for i in range(-(-self.size // CHUNK)):
            yield self._chunk(i)

    def read(self, n: int = -1) -> bytes:
        """What the minio SDK reads from (it asks for a part at a time)."""
        want = self.size - self.offset if n is None or n < 0 else n
        out = bytearray()
        while len(out) < want and self.offset < self.size:
            if not self.buffer:
                self.buffer = self._chunk(self.offset // CHUNK)[self.offset % CHUNK:]
            take = self.buffer[: want - len(out)]
            self.buffer = self.buffer[len(take):]
            self.offset += len(take)
            out += take
        return bytes(out)


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"


def _status(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as f:
        return {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in f)
                if k in ("VmRSS", "VmHWM")}


class MemoryWatch:
    """The peak resident memory of a process while something runs (VmHWM, sampled RSS as a check)."""

    def __init__(self, pid: int):
        self.pid = pid

    def __enter__(self) -> MemoryWatch:
        self.before = _status(self.pid)["VmRSS"]
        with open(f"/proc/{self.pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        self.samples: list[int] = []
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.samples.append(_status(self.pid)["VmRSS"])
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(_status(self.pid)["VmHWM"], *self.samples)


def measure(system: LocalSystem, s3_settings: dict, sizes: tuple[int, ...],
            log: Callable[[str], None] = print) -> dict:
    pid = system.procs["documents"].pid
    unit = unit_code(9_000_000)
    uploader = {"sub": "SAMPLE-uploader", "role": "applicant", "org": unit,
                "region": {"province": PROVINCE, "city": CITY}}
    client = Client(system.platform.base["documents"], timeout=600)
    direct = Minio(s3_settings["endpoint"], access_key=s3_settings["access_key"],
                   secret_key=s3_settings["secret_key"], secure=False)
    bucket = system.platform.settings.s3_bucket  # the service's own (versioned, object lock where supported)
    results = []
    try:
        for size in sizes:
            repeats = max(1, min(5, (64 * MiB) // size))
            service_s, direct_s, peaks = [], [], []
            before = None
            for _ in range(repeats):
                source = GeneratedPdf(size)
                token = system.platform.token_for(**uploader)  # the provider's, reused while it lasts
                with MemoryWatch(pid) as memory:
                    started = time.perf_counter()
                    answer = client.request("POST", f"/documents/uploads?filename=bench-{size}.pdf", data=iter(source),
                                            token=token, headers={"Content-Length": str(size),
                                                                  "Content-Type": "application/octet-stream"})
                    service_s.append(time.perf_counter() - started)
                if answer["size"] != size:
                    raise AssertionError(f"the service stored {answer['size']} bytes of {size}")
                before = memory.before if before is None else min(before, memory.before)
                peaks.append(memory.peak)
                source = GeneratedPdf(size)
                started = time.perf_counter()
                direct.put_object(bucket, f"bench-direct/{uuid.uuid4().hex}", source, length=size,
                                  content_type="application/pdf", part_size=PART_SIZE, num_parallel_uploads=1)
                direct_s.append(time.perf_counter() - started)
            best_service, best_direct = min(service_s), min(direct_s)
            entry = {
                "bytes": size, "repeats": repeats,
                "service_seconds": best_service, "service_mib_per_s": size / MiB / best_service,
                "direct_seconds": best_direct, "direct_mib_per_s": size / MiB / best_direct,
                "ratio_to_direct": best_direct / best_service,
                "service_rss_before_mib": before / MiB, "service_rss_peak_mib": max(peaks) / MiB,
                "service_rss_growth_mib": (max(peaks) - before) / MiB,
            }
            results.append(entry)
            log(f"  {size_text(size):>8}: service {entry['service_mib_per_s']:,.1f} MiB/s, direct "
                f"{entry['direct_mib_per_s']:,.1f} MiB/s ({entry['ratio_to_direct']:.0%}); documents RSS "
                f"{entry['service_rss_before_mib']:,.0f} → {entry['service_rss_peak_mib']:,.0f} MiB")
    finally:
        client.close()  # the objects go with the run's S3 server
    largest = max(results, key=lambda r: r["bytes"])
    return {"uploads": results, "flat_bound_mib": FLAT_BOUND_MIB,
            "memory_flat": all(r["service_rss_growth_mib"] < FLAT_BOUND_MIB for r in results),
            "largest": largest["bytes"]}

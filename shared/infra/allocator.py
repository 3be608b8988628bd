"""Large buffers handed back to the operating system as soon as they are freed.

glibc serves a block of 128 KiB or more with a mapping of its own, and when such a block is
freed it raises that threshold to the block's size (up to 32 MiB) and the heap's trim threshold
to twice it. A service that has once sent a 16 MiB upload part therefore carves the next parts,
and the slices of them eventlet's `sendall` copies, from its heap, which keeps what they leave
behind: the documents process grew by 49 to 65 MiB over a 1 GiB upload that holds 32 MiB at
once (issue #22's CI run failed on it), and by 34.0 MiB with the threshold fixed at 1 MiB, which
turns that adjustment off so resident memory follows what a service holds. Unmapping a 1 MiB
chunk and mapping the next costs a page fault for every 4 KiB of the upload, against the copying
and hashing it has anyway.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
LARGE_BUFFER = 1024 * 1024  # an upload's 1 MiB chunks, its 16 MiB parts and their slices


def hand_back_large_buffers(threshold: int = LARGE_BUFFER) -> bool:
    """Serve every allocation of `threshold` bytes or more with its own mapping, unmapped when
    freed, and give the heap's free top back once it reaches `threshold` (the trim threshold may
    have been raised already by what the imports freed). False where the C library has no
    `mallopt` (musl, macOS): nothing is changed there."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_TRIM_THRESHOLD, threshold))

"""glibc's heap settings for a long-running server, so its memory stays flat under steady load.

A server's big, short-lived buffers (the store file laid out for a rewrite, a purge's batch, a large body) are a
few MiB each. glibc serves the first from mmap and returns it on free, but then raises its mmap threshold to that
size, so the next ones come from the heap, where freed memory below live data is never given back: RSS grew in
steps at each rewrite and purge of a 10-minute soak (bench/soak.py: +23 MiB with the defaults, +6 MiB over the same
minutes with these settings). Fixed thresholds keep such buffers in mmap (returned at once) and trim the heap's
free top; two arenas keep the request threads from spreading small blocks over one heap each.

Only where the C library is glibc, and never over a setting the user made with glibc's own MALLOC_* variables.
"""

from __future__ import annotations

import ctypes
import os

# mallopt(3) parameters, and the environment variable that sets each at start-up.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
SETTINGS = (
    (M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", 128 * 1024),
    (M_TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", 128 * 1024),
    (M_ARENA_MAX, "MALLOC_ARENA_MAX", 2),
)


def tune_for_a_server() -> list[str]:
    """Apply the settings glibc accepts; answers the names of those applied (none off glibc)."""
    # glibc answers its version here; ctypes.util.find_library would spawn ldconfig (about 40 ms at every start),
    # and platform.libc_ver reads the interpreter's binary: the process already has glibc loaded, so ask it.
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return []
        libc = ctypes.CDLL(None)  # the symbols the process has loaded, glibc's mallopt among them
    except (ValueError, OSError, AttributeError):
        return []
    return [name for parameter, name, value in SETTINGS if name not in os.environ and libc.mallopt(parameter, value)]

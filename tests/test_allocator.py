"""The heap settings a long-running server applies (sandbox/allocator.py); what they do to memory is measured by
bench/soak.py. Each case runs in a fresh interpreter, as a server process starts."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
APPLIED = "from sandbox import allocator; print(' '.join(allocator.tune_for_a_server()))"


def applied(**env: str) -> list[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}
    finished = subprocess.run(
        [sys.executable, "-c", APPLIED], env={**clean, **env}, capture_output=True, text=True, check=True, timeout=60
    )
    return finished.stdout.split()


def test_a_server_fixes_its_heap_thresholds_and_arenas():
    assert applied() == ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX"]


def test_a_setting_made_with_glibcs_own_variable_is_left_to_it():
    assert applied(MALLOC_ARENA_MAX="4") == ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"]

"""Java programs for the tests, run with the JDK alone (Maven Central cannot be reached here, so no SDK jars).

A missing JDK fails the test with the fix, never skips it: the test command installs openjdk-17-jdk-headless.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JAVA_DIR = Path(__file__).resolve().parent / "java"


def require_jdk() -> str:
    java = shutil.which("java")
    if java is None or shutil.which("javac") is None:
        pytest.fail("no JDK: run `bash scripts/test.sh`, which installs openjdk-17-jdk-headless")
    return java


def run_java(source: str, *args: str, options: tuple[str, ...] = (), timeout: float = 120) -> list[str]:
    """`java [options] tests/java/<source> args...` (a single-file program, compiled in memory); its stdout lines."""
    done = subprocess.run(
        [require_jdk(), *options, str(JAVA_DIR / source), *args], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()

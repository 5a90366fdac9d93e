"""Outside programs the tests drive for real (curl, a JDK): found, or the test fails with the fix, never skipped.

The test command (scripts/test.sh) installs each of them, so in CI a missing one is a broken set-up, not a reason
to skip the test that needs it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JAVA_DIR = Path(__file__).resolve().parent / "java"
JDK = "openjdk-17-jdk-headless"


def require_tool(name: str, package: str) -> str:
    """The tool's path; a failure that says which Debian package brings it when it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: apt-get install {package} (scripts/test.sh installs it)", pytrace=False)
    return found


def run_java(source: str, *args: str, options: tuple[str, ...] = (), timeout: float = 120) -> list[str]:
    """`java [options] tests/java/<source> args...`: a single-file program, compiled in memory; its stdout lines."""
    java = require_tool("java", JDK)
    require_tool("javac", JDK)  # launching a source file needs the compiler module, which only a JDK has
    done = subprocess.run(
        [java, *options, str(JAVA_DIR / source), *args], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()

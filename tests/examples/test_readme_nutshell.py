"""The README's nutshell (also shown in docs/getting-started.md) is a test file: run the block itself with the plugin,
in a thread and against a URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"


def nutshell() -> str:
    section = README.read_text().split("## In a nutshell", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(params=["in-thread", "external"])
def mode(request, live) -> list[str]:
    return ["--sandbox-url", live.url] if request.param == "external" else []


def test_the_readme_nutshell_passes_as_written(pytester, mode):
    pytester.makepyfile(test_nutshell=nutshell())

    pytester.runpytest("-p", "no:cacheprovider", *mode).assert_outcomes(passed=1)

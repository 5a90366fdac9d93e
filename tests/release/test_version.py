"""The version, from its one source (sandbox.__version__), as `paysandbox --version`, `/_sandbox/health`, the
package metadata and the changelog say it."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import requests

from sandbox import __version__

REPO = Path(__file__).resolve().parents[2]
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?")


def test_the_version_is_semantic():
    assert SEMVER.fullmatch(__version__), __version__


def test_the_package_takes_its_version_from_sandbox_init():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sandbox.__version__"}


def test_paysandbox_version_prints_the_version():
    # The console script pip made for this environment, as a user types it.
    script = Path(sysconfig.get_path("scripts")) / "paysandbox"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"paysandbox {__version__}\n", "")


def test_python_dash_m_sandbox_version_prints_the_same():
    done = subprocess.run([sys.executable, "-m", "sandbox", "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout == f"paysandbox {__version__}\n"


def test_health_reports_the_version_over_http(live):
    answer = requests.get(f"{live.url}/_sandbox/health", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": __version__}


def test_the_changelog_has_a_dated_section_for_this_version_and_a_link_for_every_section():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", changelog, flags=re.M)
    assert sections[0] == ("Unreleased", "")  # Keep a Changelog: Unreleased on top, then the newest release
    assert sections[1][0] == __version__ and sections[1][1], sections[1]
    links = dict(re.findall(r"^\[([^\]]+)\]: (\S+)$", changelog, flags=re.M))
    assert set(links) == {name for name, _ in sections}
    source = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Source"]
    assert all(url.startswith(source + "/") for url in links.values()), links
    assert links[__version__].endswith(f"v{__version__}")  # the tag the release workflow publishes

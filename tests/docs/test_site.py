"""The documentation site: it builds in strict mode (a broken link, anchor or snippet fails), its control API page
names every operation of the OpenAPI description, every page is reachable from the README, and the README stays a
landing page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import deque
from pathlib import Path

import yaml

from sandbox.admin.openapi import document

REPOSITORY = Path(__file__).resolve().parents[2]
README = REPOSITORY / "README.md"
DOCS = REPOSITORY / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")
METHODS = ("get", "post", "put", "patch", "delete")


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=REPOSITORY,  # the snippets' base path: README.md, tests/, CHANGELOG.md
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_site_builds_strictly_with_every_control_api_operation(tmp_path):
    built = build(REPOSITORY / "mkdocs.yml", tmp_path)

    assert built.returncode == 0, built.stdout + built.stderr
    page = (tmp_path / "control-api" / "index.html").read_text(encoding="utf-8")
    operations = [
        (method.upper(), path, op["operationId"])
        for path, item in document()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    missing = [f"{m} {p}" for m, p, op in operations if f"<code>{m} {p}</code>" not in page or f'id="{op}"' not in page]
    assert operations and not missing


def test_a_broken_anchor_fails_the_build(tmp_path):
    """The site's own validation settings turn a link to a missing heading into a failed build."""
    settings = yaml.safe_load((REPOSITORY / "mkdocs.yml").read_text())
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the other page](other.md#no-such-heading).\n")
    (docs / "other.md").write_text("# Other\n\n## A heading\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "site_name": "broken",
                "docs_dir": str(docs),
                "strict": settings["strict"],
                "validation": settings["validation"],
                "nav": ["index.md", "other.md"],
            }
        )
    )

    built = build(config, tmp_path / "site")

    assert built.returncode != 0
    assert "no-such-heading" in built.stdout + built.stderr


def links(page: Path) -> list[Path]:
    """The files a Markdown page links to by relative path (anchors dropped; web and mail links left out)."""
    found = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0]
        if path and not re.match(r"^[a-z][a-z0-9+.-]*:", path):
            found.append((page.parent / path).resolve())
    return found


def docs_pages() -> set[Path]:
    return {page.resolve() for page in DOCS.rglob("*.md") if "hooks" not in page.parts}


def test_every_docs_page_is_reachable_from_the_readme():
    seen = {README.resolve()}
    queue = deque(seen)
    while queue:
        for target in links(queue.popleft()):
            if target.suffix == ".md" and target.exists() and target not in seen:
                seen.add(target)
                queue.append(target)

    unreachable = sorted(str(page.relative_to(REPOSITORY)) for page in docs_pages() - seen)
    assert not unreachable


def test_every_relative_link_of_the_readme_exists():
    """MkDocs checks the links inside docs/; the README is not part of the site, so it is checked here."""
    missing = [str(target) for target in links(README) if not target.exists()]
    assert not missing


def test_the_readme_is_a_landing_page_of_at_most_250_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250

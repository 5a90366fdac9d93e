"""The docs pages the code points readers at exist, with the heading each #anchor names; and the repository names
none of the notes the docs replaced, so every reference leads to a page in it."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("sandbox", "tests", "scripts", "bench")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist", "site"}
# `docs/<page>.md`, optionally `#anchor`, not as the tail of a longer path such as `sandbox/docs/...`.
REFERENCE = re.compile(r"(?<![\w/.-])docs/([\w./-]+?\.md)(?:#([\w-]+))?")
# The notes the docs pages replaced, spelled out only here (joined at run time, so this file does not name them).
NOTES = b"|".join((b"PROTOCOLS", b"API", b"ARCHITECTURE"))
OLD_NOTES = re.compile(rb"\b(?:" + NOTES + rb")\.md\b|" + re.escape(b"../" + b"shared"))
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
CUSTOM_ID = re.compile(r"\s*\{\s*#([\w-]+)[^}]*\}\s*$")
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def files_under(root: Path):
    """Every file below root, skipping version control, virtualenvs, installed packages and build output."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            yield Path(folder, name)


def references() -> list[tuple[str, str, str]]:
    """(where, page, anchor) for every docs page named in the code, tests, scripts and benchmarks."""
    found = []
    for source in SOURCES:
        for path in files_under(REPO / source):
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue  # binary fixtures name no page
            for number, line in enumerate(text.splitlines(), 1):
                for match in REFERENCE.finditer(line):
                    where = f"{path.relative_to(REPO)}:{number}"
                    found.append((where, match.group(1), match.group(2) or ""))
    return found


def slugify(heading: str) -> str:
    """The anchor MkDocs gives a heading (Python-Markdown's toc): its text without markup, accents folded to ASCII,
    punctuation dropped, lower case, runs of spaces and hyphens as one hyphen."""
    text = LINK.sub(r"\1", heading).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    """Every heading's anchor on a page, outside code blocks; a repeated one gets _1, _2... as MkDocs numbers them."""
    seen: dict[str, int] = {}
    result = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        heading = None if fenced else HEADING.match(line)
        if heading is None:
            continue
        text = heading.group(2)
        custom = CUSTOM_ID.search(text)
        slug = custom.group(1) if custom else slugify(text)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}_{count}")
    return result


REFERENCES = references()


def test_the_code_points_at_docs_pages():
    assert len(REFERENCES) > 20, "the code is expected to point readers at the docs pages"


@pytest.mark.parametrize(("where", "page", "anchor"), REFERENCES, ids=[f"{w} {p}#{a}" for w, p, a in REFERENCES])
def test_every_referenced_page_and_anchor_exists(where, page, anchor):
    path = REPO / "docs" / page
    assert path.is_file(), f"{where} names docs/{page}, which does not exist"
    if anchor:
        known = anchors(path)
        assert anchor in known, f"{where} names docs/{page}#{anchor}; that page's anchors are {sorted(known)}"


def test_slugify_follows_mkdocs():
    assert slugify("SDK quirks") == "sdk-quirks"
    assert slugify("Alipay OpenAPI (gateway.do)") == "alipay-openapi-gatewaydo"
    assert slugify("The `key_mode` field") == "the-key_mode-field"
    assert slugify("Answers and errors") == "answers-and-errors"
    assert slugify("[Scenarios](scenarios.md) — 情景") == "scenarios"


def test_no_file_names_the_notes_the_docs_replaced():
    naming = []
    for path in files_under(REPO):
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            if OLD_NOTES.search(line):
                naming.append(f"{path.relative_to(REPO)}:{number}")
    assert not naming, f"point these at a page under docs/ instead: {naming}"

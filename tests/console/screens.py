"""Full-page screenshots of the console tests, for CI to keep as artefacts (artifacts/ is git-ignored)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def save(page: Page, name: str) -> Path:
    """`<repo>/artifacts/screenshots/<name>.png`, the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

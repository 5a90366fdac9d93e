"""The icon of every page (hosted pages, console, demo shop): /favicon.svg, which each page links, and /favicon.ico
for browsers and tools that ask for it anyway. Both files are in pages/static (favicon.ico holds a 32x32 PNG of the
same mark)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory

ICONS = Path(__file__).resolve().parent / "pages" / "static"
MAX_AGE = 86_400  # seconds: browsers ask once a day, not on every page


def install(app: Flask) -> None:
    app.add_url_rule("/favicon.svg", "favicon_svg", lambda: _icon("favicon.svg", "image/svg+xml"))
    app.add_url_rule("/favicon.ico", "favicon_ico", lambda: _icon("favicon.ico", "image/x-icon"))


def _icon(name: str, mimetype: str):
    return send_from_directory(ICONS, name, mimetype=mimetype, max_age=MAX_AGE)

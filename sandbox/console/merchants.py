"""The merchants page (being built)."""

from __future__ import annotations

from sandbox.console.views import bp, page


@bp.get("/console/merchants")
def merchants():
    return page("console/refusal.html", title="merchants", message="Coming in this change.")

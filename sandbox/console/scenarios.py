"""The scenarios page (being built)."""

from __future__ import annotations

from sandbox.console.views import bp, page


@bp.get("/console/scenarios")
def scenarios():
    return page("console/refusal.html", title="scenarios", message="Coming in this change.")

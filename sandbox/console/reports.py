"""The signature doctor and the integration reports (being built)."""

from __future__ import annotations

from sandbox.console.views import bp, page


@bp.get("/console/doctor")
def doctor():
    return page("console/refusal.html", title="Signature doctor", message="Coming in this change.")


@bp.get("/console/reports")
def reports():
    return page("console/refusal.html", title="Integration reports", message="Coming in this change.")

"""The signature doctor and the integration reports: what the sandbox expects, and what it saw the merchant do."""

from __future__ import annotations

import json

from flask import Response, request

from sandbox.console import api
from sandbox.console.views import back, bp, page

PROTOCOLS = (
    ("alipay", "Alipay OpenAPI (gateway.do)"),
    ("alipay_v3", "Alipay OpenAPI v3"),
    ("wechatpay_v3", "WeChat Pay API v3"),
    ("wechatpay_v2", "WeChat Pay API v2 (XML)"),
    ("unionpay", "UnionPay ACP 5.1.0"),
)


@bp.route("/console/doctor", methods=["GET", "POST"])
def doctor():
    form = request.form if request.method == "POST" else request.args
    errors: dict[str, str] = {}
    diagnosis = None
    if request.method == "POST":
        payload = {"protocol": form.get("protocol", "")}
        for name in ("merchant_id", "signature"):
            if form.get(name, "").strip():
                payload[name] = form[name].strip()
        for name in ("request", "string_to_sign"):  # either, or both to compare what was signed with the request
            if form.get(name, "").strip():
                payload[name] = _crlf_to_lf(form[name])
        try:
            diagnosis = api.post("/signature/doctor", payload)
        except api.ApiError as refused:
            errors[refused.field or "form"] = refused.message
    return page(
        "console/doctor.html",
        status=400 if errors else 200,
        protocols=PROTOCOLS,
        form=form,
        errors=errors,
        diagnosis=diagnosis,
    )


def _crlf_to_lf(text: str) -> str:
    """A browser posts a textarea's line breaks as CRLF; what was pasted had the sender's own (LF for the wire
    formats here, whose signed strings end lines with \\n)."""
    return text.replace("\r\n", "\n")


@bp.get("/console/reports")
def reports():
    merchants = api.get("/merchants")["merchants"]
    return page("console/reports.html", merchants=merchants)


@bp.get("/console/reports/<gateway>/<merchant_id>")
def report(gateway: str, merchant_id: str):
    answer = api.get(f"/merchants/{gateway}/{merchant_id}/report")
    if request.args.get("format") == "json":
        body = json.dumps(answer, ensure_ascii=False, indent=2)
        name = f"paysandbox-report-{gateway}-{merchant_id}.json"
        return Response(
            body, mimetype="application/json", headers={"Content-Disposition": f"attachment; filename={name}"}
        )
    return page("console/report.html", report=answer, active="console.reports")


@bp.post("/console/reports/<gateway>/<merchant_id>/exercise")
def exercise(gateway: str, merchant_id: str):
    """Add the scenario a report line suggests, so the next payment exercises that check."""
    try:
        rule = json.loads(request.form.get("scenario", ""))
    except ValueError:
        rule = None
    if not isinstance(rule, dict):
        return page("console/refusal.html", status=400, title="Check the input", message="scenario must be a JSON rule")
    added = api.post("/scenarios", rule)["scenario"]
    notice = f"Scenario {added['id']} added: make a payment for {merchant_id} to exercise it."
    return back("console.report", notice, gateway=gateway, merchant_id=merchant_id)

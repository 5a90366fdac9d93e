"""The scenarios page: the namespace's rules in the order they are tried, adding one (form, pasted JSON or YAML,
a recipe) and deleting them; every rule goes through POST /_sandbox/scenarios, validated as scripts are."""

from __future__ import annotations

import json

from flask import request

from sandbox.console import api
from sandbox.console.rule_form import FORM_FIELDS, OPERATIONS, RECIPES, NotARule, form_rule, form_slot, parse_pasted
from sandbox.console.views import back, bp, page

OUTCOMES = ("success", "fail", "pending", "close")
GATEWAYS = ("alipay", "wechatpay", "unionpay")


def _effects(rule: dict) -> list[tuple[str, str]]:
    """Each effect as one readable line: ("notify", "delay=600 drop=2")."""
    return [(effect, _pairs(rule[effect])) for effect in ("payment", "notify", "api") if rule.get(effect)]


def _pairs(values: dict) -> str:
    return " ".join(f"{k}={json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v}" for k, v in values.items())


def _render(errors: dict | None = None, form=None, pasted: str = ""):
    errors = errors or {}
    rules = api.get("/scenarios")["scenarios"]
    return page(
        "console/scenarios.html",
        status=400 if errors else 200,
        rules=[{**r, "effects": _effects(r), "match_text": _pairs(r.get("match") or {})} for r in rules],
        magic=api.get("/magic")["amounts"],
        recipes=[{**recipe, "json": json.dumps(recipe["rule"], ensure_ascii=False)} for recipe in RECIPES],
        gateways=GATEWAYS,
        operations=OPERATIONS,
        outcomes=OUTCOMES,
        errors=errors,
        form=form if form is not None else {},
        pasted=pasted,
    )


@bp.get("/console/scenarios")
def scenarios():
    return _render()


@bp.post("/console/scenarios")
def add_scenario():
    """The structured form: each input becomes its key of the rule; the API's complaint goes next to its input."""
    try:
        rule = form_rule(request.form)
        added = api.post("/scenarios", rule)["scenario"]
    except NotARule as bad:
        return _render({bad.field: bad.message}, form=request.form)
    except api.ApiError as refused:
        return _render({form_slot(refused.field, FORM_FIELDS): refused.message}, form=request.form)
    return back("console.scenarios", f"Rule {added['id']} added.")


@bp.post("/console/scenarios/paste")
def paste_scenarios():
    """Pasted JSON or YAML (or a recipe's prepared JSON): one rule, a list, or {"scenarios": [...]}."""
    text = request.form.get("text", "")
    try:
        payload = parse_pasted(text)
        answer = api.post("/scenarios", payload)
    except NotARule as bad:
        return _render({"text": bad.message}, pasted=text)
    except api.ApiError as refused:
        return _render({"text": refused.message, "text.field": refused.field}, pasted=text)
    added = answer.get("scenarios") or [answer["scenario"]]
    ids = ", ".join(r["id"] for r in added)
    return back("console.scenarios", f"{len(added)} rule(s) added: {ids}.")


@bp.post("/console/scenarios/<rule_id>/delete")
def delete_scenario(rule_id: str):
    api.delete(f"/scenarios/{rule_id}")
    return back("console.scenarios", f"Rule {rule_id} deleted.")


@bp.post("/console/scenarios/clear")
def clear_scenarios():
    deleted = api.delete("/scenarios")["deleted"]
    return back("console.scenarios", f"{len(deleted)} rule(s) deleted.")

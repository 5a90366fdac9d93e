"""The clock page: the namespace's mode and time, advancing it by presets, and back to real time."""

from __future__ import annotations

from flask import request

from sandbox.console import api
from sandbox.console.views import bp, page

PRESETS = (("1 min", 60), ("5 min", 300), ("15 min", 900), ("1 hour", 3600), ("1 day", 86400), ("25 hours", 90000))
MODES = ("real", "manual", "accelerated")


@bp.route("/console/clock", methods=["GET", "POST"])
def clock():
    errors: dict[str, str] = {}
    done = ""
    attempted: list = []
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "advance":
                seconds = _seconds(request.form.get("seconds", ""))
                answer = api.post("/clock/advance", {"seconds": seconds})
                attempted = answer.get("attempted", [])
                done = f"Advanced {seconds:g} s: {len(attempted)} notification attempt(s) ran."
            elif action == "mode":
                payload = {"mode": request.form.get("mode", "")}
                if payload["mode"] == "accelerated":
                    payload["factor"] = _number(request.form.get("factor", ""), "factor")
                api.post("/clock", payload)
                done = f"Clock mode: {payload['mode']}."
            elif action == "reset":
                api.post("/clock/reset")
                done = "The clock is back on real time."
            else:
                errors["form"] = f"unknown clock action {action!r}"
        except api.ApiError as refused:
            errors[refused.field or _field_of(action)] = refused.message
        except ValueError as bad:
            errors[_field_of(action)] = str(bad)
    return page(
        "console/clock.html",
        status=400 if errors else 200,
        current=api.get("/clock"),
        presets=PRESETS,
        modes=MODES,
        errors=errors,
        done=done,
        attempted=attempted,
        form=request.form,
    )


def _field_of(action: str) -> str:
    return {"advance": "seconds", "mode": "factor"}.get(action, "form")


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None


def _seconds(text: str) -> float:
    """Seconds as typed, or with a unit: 90, 15m, 2h, 1d."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    scale = units.get(text[-1:], 1) if text else 1
    number = text[:-1] if text[-1:] in units else text
    try:
        seconds = float(number) * scale
    except ValueError:
        raise ValueError(
            f"seconds must be a number, optionally with s, m, h or d (e.g. 900 or 15m), got {text!r}"
        ) from None
    return seconds

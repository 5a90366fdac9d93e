"""A scenario rule from the console's inputs: the structured form's fields, or pasted JSON or YAML.

Nothing here validates a rule: values are shaped (numbers from text, key=value lines) and the control API judges
them exactly as it judges a script's, so its message and the field it names are what the page shows.
"""

from __future__ import annotations

import json
import re
from functools import cache

GROUPS = ("match", "payment", "notify", "api")
FORM_FIELDS = (
    "name",
    "times",
    "match.gateway",
    "match.merchant_id",
    "match.out_trade_no",
    "match.amount",
    "match.operation",
    "payment.outcome",
    "payment.code",
    "payment.settle_after",
    "payment.then",
    "notify.delay",
    "notify.drop",
    "notify.duplicate",
    "notify.probe",
    "notify.signature",
    "notify.timestamp",
    "notify.merchant",
    "notify.tamper",
    "api.status",
    "api.delay",
    "api.error",
    "api.body",
    "api.disconnect",
)
NUMBERS = {"times", "payment.settle_after", "notify.delay", "notify.drop", "notify.duplicate", "notify.probe"}
NUMBERS |= {"api.status", "api.delay"}
OPERATIONS = ("create", "pay", "query", "close", "cancel", "refund", "bill", "keys", "notify")
AMOUNT_RANGE = re.compile(r"^(\d*)\s*\.\.\s*(\d*)$|^(\d+)\s*-\s*(\d+)$")
MAX_PASTE = 64 * 1024

RECIPES = (
    {
        "slug": "wechat-duplicate",
        "title": "Next WeChat Pay notification duplicated twice",
        "help": "The merchant must process the payment once however many copies arrive.",
        "rule": {
            "name": "Next WeChat Pay notification duplicated twice",
            "match": {"gateway": "wechatpay"},
            "times": 1,
            "notify": {"duplicate": 2},
        },
    },
    {
        "slug": "alipay-bad-signature",
        "title": "Next Alipay notification badly signed",
        "help": "The merchant must refuse it (and the sandbox retries it, as Alipay does).",
        "rule": {
            "name": "Next Alipay notification badly signed",
            "match": {"gateway": "alipay"},
            "times": 1,
            "notify": {"signature": "invalid"},
        },
    },
    {
        "slug": "query-503",
        "title": "Next query answers 503",
        "help": "A load balancer's HTML error page instead of the gateway's answer.",
        "rule": {"name": "Next query answers 503", "match": {"operation": "query"}, "times": 1, "api": {"status": 503}},
    },
    {
        "slug": "notify-lost",
        "title": "Next notification's first attempt lost",
        "help": "The retry follows the gateway's real schedule: advance the clock to see it.",
        "rule": {"name": "Next notification's first attempt lost", "times": 1, "notify": {"drop": 1}},
    },
    {
        "slug": "payment-declined",
        "title": "Next payment declined: balance not enough",
        "help": "Each gateway answers its own code (NOTENOUGH, ACQ.BUYER_BALANCE_NOT_ENOUGH, 64).",
        "rule": {
            "name": "Next payment declined: balance not enough",
            "times": 1,
            "payment": {"outcome": "fail", "code": "balance_not_enough"},
        },
    },
    {
        "slug": "notify-tampered",
        "title": "Next notification claims 0.01 paid",
        "help": "The amount is changed after signing: the merchant must check the signature and the amount.",
        "rule": {"name": "Next notification claims 0.01 paid", "times": 1, "notify": {"tamper": {"amount": 1}}},
    },
)


class NotARule(ValueError):
    """What the console refuses before the API sees anything: (the form field, a message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field, self.message = field, message

    def __str__(self) -> str:
        return self.message


def form_rule(form) -> dict:
    """The rule the structured form describes: blank inputs are left out, a group with none at all too."""
    rule: dict = {}
    if form.get("name", "").strip():
        rule["name"] = form["name"].strip()
    if form.get("times", "").strip():
        rule["times"] = _number(form["times"])
    for group in GROUPS:
        values = {}
        for field in FORM_FIELDS:
            if not field.startswith(group + "."):
                continue
            key, text = field.removeprefix(group + "."), form.get(field, "").strip()
            if text:
                values[key] = _value(field, text)
        if values:
            rule[group] = values
    return rule


def _value(field: str, text: str):
    if field in NUMBERS:
        return _number(text)
    if field == "match.amount":
        return _amount(text)
    if field == "notify.tamper":
        return _tamper(text)
    if field == "api.disconnect":
        return True
    return text


def _number(text: str):
    """A number as typed; anything else goes on as text, for the API to say what it expected."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _amount(text: str):
    """Fen: 601, or a range 100..200 (either end may be left open) or 100-200."""
    found = AMOUNT_RANGE.match(text)
    if not found:
        return _number(text)
    low, high = (found.group(1), found.group(2)) if found.group(3) is None else (found.group(3), found.group(4))
    bounds = {name: int(v) for name, v in (("min", low), ("max", high)) if v}
    return bounds or text


def _tamper(text: str) -> dict:
    """key=value lines; a whole number becomes a JSON number (amounts in fen), anything else stays text."""
    fields = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise NotARule("notify.tamper", f"notify.tamper line {number} is not key=value: {line.strip()!r}")
        value = value.strip()
        fields[key.strip()] = int(value) if re.fullmatch(r"-?\d{1,18}", value) else value
    return fields


def form_slot(api_field: str, known: tuple[str, ...]) -> str:
    """The input the API's field belongs to: notify.tamper.amount -> notify.tamper, payment -> its fieldset."""
    candidate = api_field
    while candidate:
        if candidate in known or candidate in GROUPS:
            return candidate
        candidate = candidate.rpartition(".")[0]
    return "form"


# -- pasted text ------------------------------------------------------------------------------------------------


@cache
def _no_aliases():
    """A SafeLoader without aliases: a few lines of *refs could otherwise expand to gigabytes when sent on as JSON.
    Made on first use: yaml is not imported until someone pastes a rule (14 ms of the sandbox's start)."""
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                line = self.peek_event().start_mark.line + 1
                raise NotARule("text", f"YAML aliases (*name, line {line}) are not taken here: write the value out.")
            return super().compose_node(parent, index)

    return yaml, NoAliases


def parse_pasted(text: str) -> dict:
    """The body for POST /_sandbox/scenarios from pasted JSON or YAML: one rule, a list, or {"scenarios": [...]}."""
    if not text.strip():
        raise NotARule("text", 'Paste a rule first: JSON or YAML, one rule, a list, or {"scenarios": [...]}.')
    if len(text) > MAX_PASTE:
        raise NotARule("text", f"The pasted text is {len(text)} characters; at most {MAX_PASTE} are taken.")
    try:
        content = json.loads(text)
    except ValueError as not_json:
        content = _yaml(text, not_json)
    if isinstance(content, list):
        content = {"scenarios": content}
    if not isinstance(content, dict):
        kind = type(content).__name__ if content is not None else "nothing"
        raise NotARule(
            "text",
            f"The pasted text reads as {kind}, not a rule: paste a rule (an object with match, payment, notify or"
            ' api), a list of rules, or {"scenarios": [...]}.',
        )
    try:
        return json.loads(json.dumps(content))
    except (TypeError, ValueError):
        raise NotARule("text", "The YAML holds a value JSON cannot carry (a date or time?): quote it.") from None


def _yaml(text: str, not_json: json.JSONDecodeError):
    yaml, no_aliases = _no_aliases()
    try:
        return yaml.load(text, Loader=no_aliases)  # a SafeLoader, less aliases
    except yaml.YAMLError as bad:
        mark = getattr(bad, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(bad, "problem", None) or str(bad)
        message = f"The pasted text is neither JSON nor YAML. YAML: {where}{problem}."
        if text.lstrip()[:1] in "{[":
            message += f" JSON: line {not_json.lineno}, column {not_json.colno}: {not_json.msg}."
        raise NotARule("text", message) from None

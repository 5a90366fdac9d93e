"""unionpay's side of the API fault filter (gateways/faults.py). Not built yet: no call is classified."""

from __future__ import annotations

from sandbox.core.rules import Context


def request_context(req) -> Context | None:
    return None


def error_answer(ctx: Context, code: str):
    raise NotImplementedError


def altered_answer(response, how: str):
    return response

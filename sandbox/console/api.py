"""The console's one door to the sandbox: the control API itself, called in-process.

Every page reads and every button acts through the same /_sandbox JSON calls that scripts, the CLI and the pytest
plugin make, through the whole WSGI stack (access token, namespace header, durability), so the console shows exactly
what the API answers and refuses exactly what it refuses, with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request

NAMESPACE_HEADER = "X-Sandbox-Namespace"


@dataclass
class ApiError(Exception):
    """The control API refused a call: its status, error code, message and, for bad input, the field at fault."""

    status: int
    code: str
    message: str
    field: str = ""

    def __str__(self) -> str:
        return self.message


def call(method: str, path: str, payload: dict | None = None, params: dict | None = None):
    """`path` under /_sandbox, in the namespace the console shows. Answers the decoded JSON (or text for a
    non-JSON document); raises ApiError for an error answer."""
    headers = {}
    token = current_app.extensions.get("paysandbox_token")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    namespace = g.get("console_namespace")
    if namespace:
        headers[NAMESPACE_HEADER] = namespace
    query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    client = current_app.test_client()
    # Addressed as the browser addressed the console, so the URLs the API hands out (pay_url) are ones it can open.
    address = {"base_url": request.host_url}
    reply = client.open(f"/_sandbox{path}", method=method, json=payload, query_string=query, headers=headers, **address)
    if reply.mimetype != "application/json":
        if reply.status_code >= 400:
            raise ApiError(reply.status_code, "ERROR", reply.get_data(as_text=True))
        return reply.get_data(as_text=True)
    body = reply.get_json()
    if reply.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise ApiError(
            reply.status_code, error.get("code", "ERROR"), error.get("message", ""), error.get("field", "") or ""
        )
    return body


def get(path: str, **params):
    return call("GET", path, params=params)


def post(path: str, payload: dict | None = None):
    return call("POST", path, payload=payload if payload is not None else {})


def delete(path: str):
    return call("DELETE", path)

"""What each gateway's create_order shares: its refusals said in the control API's field names."""

from __future__ import annotations

from sandbox.errors import InvalidParameter, MissingParameter, SandboxError


def field_error(gateway: str, native: str, fields: dict[str, str], message: str) -> InvalidParameter:
    """A refusal of the wire field `native`, named by the request field it came from (`fields`: wire -> neutral)."""
    name = fields.get(native, "body")
    return InvalidParameter(name, f"{gateway} refuses {name}: {message}")


def renamed(gateway: str, error: SandboxError, fields: dict[str, str]) -> SandboxError:
    """A neutral field error of a handler, renamed to the request's field; any other neutral error as it is."""
    if isinstance(error, InvalidParameter | MissingParameter):
        return field_error(gateway, error.name, fields, error.message)
    return error

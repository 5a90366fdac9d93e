"""Every SANDBOX_* setting in one place: defaults, environment overrides, and what each is for."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

# The repo's fixtures/ (sandbox/fixtures links to it), shipped inside the package when installed.
PACKAGED_FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOKEN = re.compile(r"[\x21-\x7e]+")  # what a bearer token can be: visible ASCII, no spaces


@dataclass
class Config:
    host: str = "127.0.0.1"  # SANDBOX_HOST: address `serve` binds (0.0.0.0 in the container)
    port: int = 8008  # SANDBOX_PORT
    # SANDBOX_DATA: a TinyDB JSON file, or a postgresql:// URL (whose password must never be shown); unset: memory
    data_path: str | None = field(default=None, repr=False)
    fixtures_dir: str = field(default_factory=lambda: str(PACKAGED_FIXTURES))  # SANDBOX_FIXTURES
    public_url: str | None = None  # SANDBOX_PUBLIC_URL: base of URLs handed out (QR codes, bills)
    clock_mode: str = "real"  # SANDBOX_CLOCK_MODE: real | accelerated | manual
    clock_factor: float = 1.0  # SANDBOX_CLOCK_FACTOR: speed in accelerated mode
    seed: int | None = None  # SANDBOX_SEED: makes generated ids repeatable
    notify_timeout: float = 10.0  # SANDBOX_NOTIFY_TIMEOUT: seconds for a whole attempt (connect, send, full reply)
    # SANDBOX_NOTIFY_ALLOW: host names, host:port and CIDR ranges notifications may reach (comma-separated); unset: any
    notify_allow: str | None = None
    max_body: int = 1024 * 1024  # SANDBOX_MAX_BODY: bytes a request body may have, enforced while it is read
    log_level: str = "INFO"  # SANDBOX_LOG_LEVEL
    scenarios_file: str | None = None  # SANDBOX_SCENARIOS: JSON or YAML rules loaded at start
    proxy_port: int | None = None  # SANDBOX_PROXY_PORT: an HTTP proxy answering CONNECT to the provider hosts
    tls_port: int | None = None  # SANDBOX_TLS_PORT: every gateway over HTTPS, for the provider hosts
    # SANDBOX_TOKEN: the control API then needs `Authorization: Bearer <token>` (health, ca.pem and openapi.json aside)
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None  # SANDBOX_TOKEN_FILE: read the token from this file (a container secret)
    # SANDBOX_RETENTION: finished orders (and their notifications) last active longer ago on the sandbox clock are
    # purged, once nothing is due for them: 7d, 12h, 90m; 0 or off keeps any age
    retention: str = "7d"
    retention_orders: int = 2000  # SANDBOX_RETENTION_ORDERS: at most this many finished orders kept (0: no limit)
    # SANDBOX_WORKERS: gunicorn worker processes (the container); more than one only on a postgresql:// SANDBOX_DATA
    workers: int = 1

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> Config:
        environ = os.environ if environ is None else environ
        values: dict = {}
        for item in fields(cls):
            raw = environ.get(f"SANDBOX_{_env_name(item.name)}")
            if raw is None or raw == "":
                continue
            kind = item.type if isinstance(item.type, str) else item.type.__name__
            if kind.startswith("int"):
                values[item.name] = int(raw)
            elif kind.startswith("float"):
                values[item.name] = float(raw)
            else:
                values[item.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def access_token(self) -> str | None:
        """The control API's token: `token`, else the first line of `token_file`; None leaves the API open.

        Raises ValueError when the file cannot be read or the token cannot travel in an HTTP header."""
        token = self.token or (self._read_token_file() if self.token_file else None)
        if token and not TOKEN.fullmatch(token):
            raise ValueError("the access token must be printable ASCII without spaces (e.g. `openssl rand -hex 32`)")
        return token or None

    def _read_token_file(self) -> str:
        try:
            lines = Path(self.token_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the token file {self.token_file}: {getattr(exc, 'strerror', exc)}") from None
        if not lines or not lines[0].strip():
            raise ValueError(f"the token file {self.token_file} is empty")
        return lines[0].strip()


def _env_name(field_name: str) -> str:
    return {"data_path": "DATA", "fixtures_dir": "FIXTURES", "scenarios_file": "SCENARIOS"}.get(
        field_name, field_name.upper()
    )

"""Reaching the PostgreSQL database a `--data` URL names: the URL as shown (never its password), connecting, and the
one-line error when the database cannot be used."""

from __future__ import annotations

import hashlib
import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

from sandbox.core.storefile import StoreFileError

# libpq waits for ever on a host that drops packets; a sandbox that cannot reach its store should say so.
DEFAULTS = {"connect_timeout": "10", "application_name": "paysandbox"}
WRITE_IT = "write it as postgresql://user:password@host:port/database"
CHECK_URL = "check the host, port and database in the URL, and that PostgreSQL is running there"


class DatabaseUnusable(StoreFileError):
    """A database the sandbox cannot use. A StoreFileError, so that everything that stops on an unusable `--data`
    store (serve, demo, the container) stops on this too with its one line: what, why, and what to do."""

    def __init__(self, shown: str, problem: str, advice: str) -> None:
        super().__init__(shown, problem, advice, what="the database")


def shown(url: str) -> str:
    """The URL without its password or query (which may hold one too): postgresql://user@host:port/database."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return re.sub(r"://([^:/@]*):[^@/]*@", r"://\1@", url.split("?", 1)[0])
    user = f"{params['user']}@" if params.get("user") else ""
    host = params.get("host", "")
    socket_dir = host.startswith("/")
    where = "" if socket_dir else (f"[{host}]" if ":" in host else host)
    port = f":{params['port']}" if params.get("port") else ""
    query = f"?host={host}" if socket_dir else ""
    return f"postgresql://{user}{where}{port}/{params.get('dbname', '')}{query}"


def connection_kwargs(url: str) -> dict[str, str]:
    """What to connect with beside the URL: the defaults it does not set itself."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.Error:
        given = {}
    return {name: value for name, value in DEFAULTS.items() if name not in given}


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection, or DatabaseUnusable saying why there is none."""
    try:
        return psycopg.connect(url, autocommit=True, **connection_kwargs(url))
    except psycopg.Error as exc:
        raise unusable(url, exc) from None


def unusable(url: str, exc: psycopg.Error) -> DatabaseUnusable:
    """The one-line error for a failure to connect (or to use the database at all)."""
    reason = scrubbed(url, str(exc))
    if isinstance(exc, psycopg.ProgrammingError):
        return DatabaseUnusable(shown(url), f"it is not a URL PostgreSQL understands ({reason})", WRITE_IT)
    if "password authentication failed" in reason or "no password supplied" in reason:
        advice = "check the user and password in the URL"
    elif re.search(r'database ".*" does not exist', reason):
        advice = "create that database (createdb), or name an existing one in the URL"
    else:
        advice = CHECK_URL
    return DatabaseUnusable(shown(url), reason, advice)


def scrubbed(url: str, message: str) -> str:
    """libpq's message on one line, without its `connection failed:` prefix, `FATAL:` or any password of the URL."""
    line = message.strip().splitlines()[0] if message.strip() else "no reason given"
    line = re.sub(r"^connection (failed|is bad): ", "", line)
    line = re.sub(r"\b(FATAL|ERROR): +", "", line).rstrip(" .")
    for secret in passwords(url):
        line = line.replace(secret, "***")
    return line


def passwords(url: str) -> list[str]:
    """Every form a password takes in the URL (as written and decoded), so none is ever repeated back."""
    found = []
    userinfo = url.split("://", 1)[-1].split("@", 1)[0] if "@" in url else ""
    if ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    try:
        found.append(conninfo_to_dict(url).get("password", ""))
    except psycopg.Error:
        found += re.findall(r"[?&]password=([^&]*)", url)
    return [secret for secret in found if secret]


def advisory_key(*parts: str) -> int:
    """A 64-bit advisory lock key for a name (all processes on one database compute the same one)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)

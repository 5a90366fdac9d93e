"""`--data postgresql://...` as a user runs it: `serve`, `demo` and the container's gunicorn start on a database, or
stop with one line (exit 2) when it cannot be used; the URL's password is never printed. Real processes."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from sandbox.core.store import open_store
from sandbox.merchant.alipay import AlipayClient
from tests.test_cli import free_port, serve, stop
from tests.test_data_file import paysandbox, run

APP, BUYER = "2021000000000001", "2088000000000009"
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:sandbox.gunicorn_conf", "sandbox.wsgi:app"]


def merchant(url: str, alipay_demo) -> AlipayClient:
    return AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{url}/gateway.do")


def without_password(url: str) -> str:
    return url.replace(f":{conninfo_to_dict(url)['password']}@", "@")


def assert_one_clear_line(result: subprocess.CompletedProcess, url: str, says: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    assert lines[0].startswith(f"paysandbox: cannot use the database {without_password(url)}"), lines[0]
    assert says in lines[0] and "; " in lines[0], lines[0]
    assert conninfo_to_dict(url)["password"] not in output


@pytest.fixture
def newer(postgres_url) -> str:
    """A database whose schema a later paysandbox wrote."""
    open_store(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE schema_version SET version = version + 1")
    return postgres_url


@pytest.fixture
def unreachable() -> str:
    return f"postgresql://paysandbox:never-shown@127.0.0.1:{free_port()}/paysandbox"


def test_serve_stops_with_one_line_when_the_database_cannot_be_reached(unreachable):
    result = run(paysandbox("serve", "--port", str(free_port()), "--data", unreachable))
    assert_one_clear_line(result, unreachable, "Connection refused")


def test_serve_stops_with_one_line_on_a_wrong_password(postgres_url):
    wrong = postgres_url.replace(conninfo_to_dict(postgres_url)["password"], "wrong-password")
    result = run(paysandbox("serve", "--port", str(free_port()), "--data", wrong))
    assert_one_clear_line(result, wrong, "password authentication failed for user")


def test_serve_stops_with_one_line_on_a_newer_schema(newer):
    result = run(paysandbox("serve", "--port", str(free_port())), SANDBOX_DATA=newer)
    assert_one_clear_line(result, newer, "newer than this paysandbox knows")


def test_demo_stops_with_one_line_when_the_database_cannot_be_reached(unreachable):
    argv = paysandbox("demo", "--port", str(free_port()), "--shop-port", str(free_port()), "--data", unreachable)
    assert_one_clear_line(run(argv), unreachable, "Connection refused")


@pytest.mark.parametrize("database", ["unreachable", "newer"])
def test_the_containers_gunicorn_stops_with_one_line_when_the_database_cannot_be_used(request, database):
    pytest.importorskip("gunicorn", reason="the container's server: pip install gunicorn (the `server` extra)")
    url = request.getfixturevalue(database)
    result = run(GUNICORN, SANDBOX_DATA=url, SANDBOX_HOST="127.0.0.1", SANDBOX_PORT=str(free_port()))
    assert_one_clear_line(result, url, {"unreachable": "Connection refused", "newer": "newer than"}[database])


def test_serve_on_a_database_names_it_without_the_password_and_keeps_orders_across_a_restart(postgres_url, alipay_demo):
    process = subprocess.Popen(
        paysandbox("serve", "--port", str(free_port()), "--data", postgres_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = process.stdout.readline()
    stop(process)
    output = banner + process.stdout.read()
    assert f"(store: {without_password(postgres_url)}, clock: real)" in banner, output
    assert conninfo_to_dict(postgres_url)["password"] not in output

    process, url = serve("--data", postgres_url)
    try:
        assert merchant(url, alipay_demo).create("PG-CLI-1", 100, "x", BUYER)["code"] == "10000"
    finally:
        stop(process)
    process, url = serve("--data", postgres_url)
    try:
        assert merchant(url, alipay_demo).query("PG-CLI-1")["trade_status"] == "WAIT_BUYER_PAY"
    finally:
        stop(process)

"""A data file the store cannot use stops `serve`, `demo` and the container's gunicorn with one line (exit 2): the file,
what is wrong, what to do; never a traceback, and never a silent start on an empty store. Real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.test_cli import free_port, serve, stop

KEPT = {"notes/0001": {"1": {"_key": "kept", "text": "a collection the sandbox does not read"}}}
DROP_READ_PERMISSION = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
]


def write_store(path: Path, journal: str | None = None) -> None:
    path.write_text(json.dumps(KEPT))
    if journal is not None:
        Path(f"{path}.journal").write_text(journal)


DAMAGED = {
    "truncated": (lambda p: p.write_text('{"orders/0001": {"1": {"_key": "a", "sta'), "is not valid JSON"),
    "array": (lambda p: p.write_text("[]"), "holds a JSON array, not an object of tables"),
    "null": (lambda p: p.write_text("null"), "holds a JSON null"),
    "other-programs-tinydb": (lambda p: p.write_text('{"_default": {"1": {"a": 1}}}'), "another program's file"),
    "document-without-its-key": (lambda p: p.write_text('{"orders/0001": {"1": {"a": 1}}}'), "has no _key"),
    "document-id-not-a-number": (lambda p: p.write_text('{"orders/0001": {"x": {"_key": "k"}}}'), "not a number"),
    "not-utf8": (lambda p: p.write_bytes(b'{"\xff": 1}'), "not UTF-8"),
    "empty": (lambda p: p.write_bytes(b""), "empty (0 bytes)"),
    "order-the-sandbox-did-not-write": (
        lambda p: p.write_text('{"orders/0001": {"1": {"_key": "k", "amount": 1}}}'),
        "holds a document the sandbox did not write",
    ),
    "directory": (lambda p: p.mkdir(), "is a directory"),
    "corrupt-journal-line": (
        lambda p: write_store(p, '{"t": "orders/0001", "i": "2", "d": {"_key": "b"}}\n{"t": oops\n{"drop": "x"}\n'),
        "journal",
    ),
    "journal-line-of-the-wrong-shape": (lambda p: write_store(p, '["not", "a", "change"]\n{"drop": "x"}\n'), "journal"),
}


def assert_one_clear_line(result: subprocess.CompletedProcess, path: Path, says: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert lines[0].startswith("paysandbox: cannot use ") and str(path) in lines[0] and says in lines[0], lines[0]
    assert "; " in lines[0]  # then what to do


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env={**os.environ, **env})


def paysandbox(*args: str) -> list[str]:
    return [sys.executable, "-m", "sandbox", *args]


@pytest.mark.parametrize("damage", DAMAGED, ids=list(DAMAGED))
def test_serve_stops_with_one_line_on_a_damaged_data_file(tmp_path, damage):
    make, says = DAMAGED[damage]
    path = tmp_path / "paysandbox.json"
    make(path)
    assert_one_clear_line(run(paysandbox("serve", "--port", str(free_port()), "--data", str(path))), path, says)


def test_serve_stops_with_one_line_on_a_data_file_it_may_not_read(tmp_path):
    path = tmp_path / "paysandbox.json"
    write_store(path)
    path.chmod(0)
    # root reads any file: run it without the capabilities that let it (as a non-root user, mode 0 is enough)
    prefix = DROP_READ_PERMISSION if os.geteuid() == 0 else []
    result = run([*prefix, *paysandbox("serve", "--port", str(free_port()), "--data", str(path))])
    assert_one_clear_line(result, path, "permission denied")


@pytest.mark.parametrize("damage", ["empty", "corrupt-journal-line"])
def test_demo_stops_with_one_line_on_a_damaged_data_file(tmp_path, damage):
    make, says = DAMAGED[damage]
    path = tmp_path / "paysandbox.json"
    make(path)
    argv = paysandbox("demo", "--port", str(free_port()), "--shop-port", str(free_port()), "--data", str(path))
    assert_one_clear_line(run(argv), path, says)


@pytest.mark.parametrize("damage", ["truncated", "empty", "directory", "corrupt-journal-line"])
def test_the_containers_gunicorn_stops_with_one_line_on_a_damaged_sandbox_data(tmp_path, damage):
    pytest.importorskip("gunicorn", reason="the container's server: pip install gunicorn (the `server` extra)")
    make, says = DAMAGED[damage]
    path = tmp_path / "paysandbox.json"
    make(path)
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:sandbox.gunicorn_conf", "sandbox.wsgi:app"]
    result = run(argv, SANDBOX_DATA=str(path), SANDBOX_HOST="127.0.0.1", SANDBOX_PORT=str(free_port()))
    assert_one_clear_line(result, path, says)


def test_a_path_that_does_not_exist_yet_starts_a_new_store_written_on_stop(tmp_path):
    path = tmp_path / "new" / "paysandbox.json"
    process, url = serve("--data", str(path))
    try:
        assert requests.get(f"{url}/_sandbox/health", timeout=5).status_code == 200
    finally:
        stop(process)
    assert json.loads(path.read_text())  # the demo merchants, written whole


def test_a_journal_whose_last_line_was_torn_by_a_crash_still_loads(tmp_path):
    path = tmp_path / "paysandbox.json"
    write_store(path, '{"t": "notes/0002", "i": "1", "d": {"_key": "b"}}\n{"t": "notes/00')
    process, url = serve("--data", str(path))
    try:
        assert requests.get(f"{url}/_sandbox/health", timeout=5).status_code == 200
    finally:
        stop(process)


def test_a_document_only_loading_finds_wrong_stops_the_containers_gunicorn_without_a_traceback(tmp_path):
    # The master checks the file's shape; what only loading the documents finds ends the worker with gunicorn's
    # "worker failed to boot" (3), which stops gunicorn instead of restarting the worker for ever.
    pytest.importorskip("gunicorn", reason="the container's server: pip install gunicorn (the `server` extra)")
    make, says = DAMAGED["order-the-sandbox-did-not-write"]
    path = tmp_path / "paysandbox.json"
    make(path)
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:sandbox.gunicorn_conf", "sandbox.wsgi:app"]
    result = run(argv, SANDBOX_DATA=str(path), SANDBOX_HOST="127.0.0.1", SANDBOX_PORT=str(free_port()))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert f"paysandbox: cannot use the data file {path}: it {says}" in result.stderr

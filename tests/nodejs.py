"""Real Node.js clients for the tests: a long-lived `node` process per script, spoken to in JSON lines.

The packages are pinned by tests/node/package-lock.json and installed by the test command (`npm ci`). A missing
`node` or `node_modules` fails the test that needs it with the fix, never skips it: these tests must run in CI.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import threading
from pathlib import Path

import pytest

from tests.tools import require_tool

NODE_DIR = Path(__file__).resolve().parent / "node"
REPLY_TIMEOUT = 30  # seconds: a call that hangs fails its test instead of the whole run


def require_node(folder: Path = NODE_DIR) -> str:
    """The node executable, once `folder`/node_modules (npm ci's, from its lockfile) is there; a failure with the fix
    otherwise."""
    node = require_tool("node", "nodejs npm")
    if not (folder / "node_modules").is_dir():
        pytest.fail(f"{folder}/node_modules is missing: run `npm ci` in {folder} (scripts/test.sh does)")
    return node


class NodeScript:
    """`node tests/node/<script>` kept running; call() sends one request line and waits for its reply line.

    `env` is the whole environment of the process (default: this one's)."""

    def __init__(self, script: str, env: dict[str, str] | None = None) -> None:
        node = require_node()
        self._process = subprocess.Popen(
            [node, str(NODE_DIR / script)],
            cwd=NODE_DIR,
            env=os.environ if env is None else env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._replies: queue.Queue[str] = queue.Queue()
        self._ids = itertools.count(1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._process.stdout:
            self._replies.put(line)

    def call(self, **request) -> dict:
        request["id"] = next(self._ids)
        self._process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self._process.stdin.flush()
        try:
            line = self._replies.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"node gave no answer in {REPLY_TIMEOUT} s to {request['op']}") from None
        reply = json.loads(line)
        assert reply["id"] == request["id"], reply
        return reply

    def close(self) -> None:
        self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._process.stderr.close()


class NodeAlipayError(Exception):
    """What the Node SDK threw: `code` is its error code (an Alipay code, or the SDK's own such as
    response-signature-verify-error), `status` the HTTP status it saw, when it saw one."""

    def __init__(self, error: dict) -> None:
        super().__init__(error.get("message", ""))
        self.name = error.get("name", "")
        self.code = error.get("code") or ""
        self.status = error.get("responseHttpStatus")
        self.links = error.get("links")
        self.message = error.get("message", "")


class NodeAlipay:
    """One `alipay-sdk` configuration (AlipaySdk's own option names), called through tests/node/alipay.js."""

    def __init__(self, script: NodeScript, **config) -> None:
        self._script = script
        self.config = config

    def _call(self, op: str, *args):
        reply = self._script.call(op=op, config=self.config, args=list(args))
        if not reply["ok"]:
            raise NodeAlipayError(reply["error"])
        return reply["value"]

    def curl(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        """OpenAPI v3: {"data", "status", "traceId"} as `AlipaySdk.curl` answers."""
        options = {k: v for k, v in (("body", body), ("query", query)) if v is not None}
        return self._call("curl", method, path, options)

    def exec(self, method: str, params: dict) -> dict:
        """gateway.do through the SDK's `exec` (deprecated in 4.x, still what many shops run)."""
        return self._call("exec", method, params)

    def check_notify_sign(self, fields: dict) -> bool:
        return self._call("checkNotifySignV2", fields)

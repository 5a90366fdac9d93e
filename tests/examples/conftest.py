"""The examples' shared set-up: the live sandbox's HTTPS proxy, as `paysandbox serve --proxy-port` runs it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.transport import ports


@dataclass(frozen=True)
class SandboxProxy:
    url: str
    port: int
    ca_file: Path  # the sandbox CA, fetched as `paysandbox ca --path` writes it


@pytest.fixture
def sandbox_proxy(app, live, tmp_path, http) -> SandboxProxy:
    running = ports.start(app, "127.0.0.1", 0, None, live.url)
    ca_file = tmp_path / "paysandbox-ca.pem"
    ca_file.write_text(http.get(f"{live.url}/_sandbox/ca.pem", timeout=5).text)
    yield SandboxProxy(f"http://127.0.0.1:{running.proxy.port}", running.proxy.port, ca_file)
    running.stop()

"""Run a WSGI app (the sandbox, or a merchant) on a free loopback port in a background thread."""

from __future__ import annotations

from sandbox.transport.plain import HttpServer

STOP_GRACE = 1.0  # seconds a request in flight (a notification to a receiver) has to finish when a test ends


class ThreadedServer:
    """A real HTTP server in a thread: `with ThreadedServer(app) as server: requests.get(server.url)`.

    HTTP/1.1 with keep-alive and no access log, as `paysandbox serve`."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server = HttpServer(app, host, port, name="test-server")
        self.host = host
        self.port = self._server.port
        self.url = f"http://{host}:{self.port}"

    def start(self) -> ThreadedServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=STOP_GRACE)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""Run a WSGI app (the sandbox, or a merchant) on a free loopback port in a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from sandbox.transport.refusals import PlainRefusalsHandler


class QuietHandler(PlainRefusalsHandler):
    """No access log lines in test output."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class ThreadedServer:
    """A real HTTP server in a thread: `with ThreadedServer(app) as server: requests.get(server.url)`."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        # A short poll interval makes shutdown quick: tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name=f"server-{self.port}", daemon=True
        )

    def start(self) -> ThreadedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

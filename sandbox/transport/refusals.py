"""The werkzeug request handler of `serve` and the in-thread server: the HTTP server's own refusals (a request line or
header over its limit, a malformed request) go out as plain text with nosniff, not as http.server's HTML page."""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler


class PlainRefusalsHandler(WSGIRequestHandler):
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "paysandbox: %(code)d %(message)s: %(explain)s\n"

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self._refusing = True
        try:
            super().send_error(code, message, explain)
        finally:
            self._refusing = False

    def end_headers(self) -> None:
        if getattr(self, "_refusing", False):
            self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

"""A small client of the control API (/_sandbox) for the CLI: JSON in and out, clear errors when nobody answers."""

from __future__ import annotations

DEFAULT_URL = "http://127.0.0.1:8008"
NAMESPACE_HEADER = "X-Sandbox-Namespace"


class ControlError(Exception):
    """The sandbox is not there, or refused the call; the message says which and why.

    `status` and `code` are the HTTP status and the API's error code when the sandbox answered, else None.
    """

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class Control:
    def __init__(
        self, url: str = DEFAULT_URL, timeout: float = 10.0, token: str | None = None, namespace: str | None = None
    ) -> None:
        """`token`: the sandbox's access token, sent as `Authorization: Bearer` on every call. `namespace`: the
        namespace every call acts in, sent as X-Sandbox-Namespace (None: the default namespace)."""
        self.url = url.rstrip("/")
        self.token = token
        self.namespace = namespace
        self._timeout = timeout
        import requests  # here, not at import: `paysandbox serve` never calls a sandbox (36 ms of its start)

        self._session = requests.Session()
        self._session.trust_env = False  # a local sandbox must not be reached through a proxy from the env
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        if namespace:
            self._session.headers[NAMESPACE_HEADER] = namespace

    def call(self, method: str, path: str, payload: dict | None = None, params: dict | None = None) -> dict:
        """`path` is under /_sandbox; `params` become the query string (empty values are left out)."""
        target = f"{self.url}/_sandbox{path}"
        reply = self._request(method, path, json=payload, params=params)
        try:
            body = reply.json()
        except ValueError:
            raise ControlError(
                f"{target} answered HTTP {reply.status_code} without JSON: is {self.url} a paysandbox?",
                status=reply.status_code,
            ) from None
        if reply.status_code == 401:
            raise ControlError(self._unauthorized(), status=401, code="UNAUTHORIZED")
        if reply.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message", reply.text) if isinstance(error, dict) else reply.text
            raise ControlError(f"{code or reply.status_code}: {message}", status=reply.status_code, code=code)
        return body

    def _unauthorized(self) -> str:
        if self.token:
            return f"the sandbox at {self.url} refused the access token: check --token or SANDBOX_TOKEN"
        return f"the sandbox at {self.url} needs an access token: pass --token or set SANDBOX_TOKEN"

    def text(self, path: str) -> str:
        """A document that is not JSON (the CA certificate), by GET under /_sandbox."""
        reply = self._request("GET", path)
        if reply.status_code == 401:
            raise ControlError(self._unauthorized(), status=401, code="UNAUTHORIZED")
        if reply.status_code != 200:
            raise ControlError(
                f"{self.url}/_sandbox{path} answered HTTP {reply.status_code}: is {self.url} a paysandbox?",
                status=reply.status_code,
            )
        return reply.text

    def _request(self, method: str, path: str, json: dict | None = None, params: dict | None = None):
        target = f"{self.url}/_sandbox{path}"
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        import requests  # loaded by __init__ already

        try:
            return self._session.request(method, target, json=json, params=query, timeout=self._timeout)
        except requests.ConnectionError:
            raise ControlError(
                f"no sandbox answers at {self.url}; start one with `paysandbox serve`, or pass --url (or SANDBOX_URL)"
            ) from None
        except requests.Timeout:
            raise ControlError(
                f"the sandbox at {self.url} did not answer {method} {path} in {self._timeout:g} s"
            ) from None
        except requests.RequestException as exc:  # a malformed URL and the like: still one line, never a traceback
            raise ControlError(f"cannot call {target}: {exc}") from None

    def healthy(self) -> bool:
        """True when a sandbox answers its health check."""
        try:
            return self.call("GET", "/health").get("status") == "ok"
        except ControlError:
            return False

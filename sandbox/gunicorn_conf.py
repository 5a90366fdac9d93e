"""gunicorn settings for the container: one gthread worker on $SANDBOX_HOST:$SANDBOX_PORT, flushed on exit."""

from __future__ import annotations

import sys

from sandbox.config import Config
from sandbox.core import store, storefile
from sandbox.core.destinations import Allowlist
from sandbox.core.retention import Retention

try:
    _config = Config.from_env()
    Allowlist.parse(_config.notify_allow)
    Retention.parse(_config.retention, _config.retention_orders)
    _config.access_token()  # an unreadable SANDBOX_TOKEN_FILE stops here, not in a loop of failing workers
except (TypeError, ValueError) as exc:
    sys.exit(f"paysandbox: a SANDBOX_* environment variable is invalid: {exc}")

if _config.data_path:
    # Here in the master, so a damaged SANDBOX_DATA (or a database that cannot be reached, or is newer) stops the start
    # with one line (exit 2), where a worker that failed to load it would leave gunicorn to give up on it (exit 3).
    try:
        store.check(_config.data_path)
    except storefile.StoreFileError as exc:
        print(f"paysandbox: {exc}", file=sys.stderr)
        sys.exit(2)

_host = f"[{_config.host}]" if ":" in _config.host else _config.host
bind = [f"{_host}:{_config.port}"]

# One process, always: the clock, the due work and the dispatcher thread live in it, and so does a file store. More
# workers would each have their own orders (or, on PostgreSQL, which shares orders and due work, their own clock);
# max_requests stays 0 because a recycled worker would forget them.
workers = 1
worker_class = "gthread"
# Threads let a merchant call back (query, refund) while a notification to it is in flight, let an api.delay
# scenario sleep without blocking others, and serve a cashier page's assets in parallel.
# Override with GUNICORN_CMD_ARGS="--threads 16".
threads = 8
preload_app = False  # sandbox.wsgi starts its threads on import: that must happen in the worker
# After SIGTERM the worker has 5 s (within `docker stop`'s 10) to finish requests and write the store file;
# a worker still busy then is killed, and a restart reads the file plus its journal (every answered write).
graceful_timeout = 5
proc_name = "paysandbox"
# No runtime control socket (gunicorn >= 25): it could add workers, and parallel test runs would share its path.
control_socket_disable = True

# No access log: /_sandbox/notifications and the order views say what happened, with more detail.
accesslog = None
errorlog = "-"
loglevel = _config.log_level.lower()


def worker_exit(server, worker) -> None:
    """Stop the sandbox in the worker: the dispatcher, then the store file written whole (SANDBOX_DATA)."""
    wsgi = sys.modules.get("sandbox.wsgi")
    if wsgi is not None:  # absent when the app failed to load: nothing to flush
        wsgi.stop()

"""gunicorn settings for the container: $SANDBOX_WORKERS gthread workers (one unless the store is PostgreSQL) on
$SANDBOX_HOST:$SANDBOX_PORT, each flushed on exit."""

from __future__ import annotations

import socket
import sys

from sandbox.config import Config
from sandbox.core import store, storefile
from sandbox.core.destinations import Allowlist
from sandbox.core.retention import Retention
from sandbox.transport.ports import Listeners

try:
    _config = Config.from_env()
    Allowlist.parse(_config.notify_allow)
    Retention.parse(_config.retention, _config.retention_orders)
    _config.access_token()  # an unreadable SANDBOX_TOKEN_FILE stops here, not in a loop of failing workers
except (TypeError, ValueError) as exc:
    sys.exit(f"paysandbox: a SANDBOX_* environment variable is invalid: {exc}")

# One worker unless the store is PostgreSQL: the store of a file or memory lives in its one process, and a second
# worker would have orders of its own. On PostgreSQL the workers share the sandbox through the database
# (docs/sharing.md). max_requests stays 0: a recycled worker would drop what it has in flight.
workers = _config.workers


def worker_refusal(count: object, config: Config) -> str | None:
    """Why `count` workers cannot serve `config`'s sandbox, or None."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return f"SANDBOX_WORKERS={count} is not a number of workers: give 1 or more"
    if count == 1:
        return None
    if not store.is_database_url(config.data_path):
        where = "a file" if config.data_path else "memory"
        return (
            f"{count} workers need SANDBOX_DATA to be a postgresql:// URL: with a store in {where}, each worker"
            " would have orders of its own (SANDBOX_WORKERS=1)"
        )
    if config.seed is not None:
        return f"{count} workers cannot share SANDBOX_SEED: each would generate the same ids (unset it)"
    return None


def _refuse(why: str) -> None:
    print(f"paysandbox: {why}", file=sys.stderr, flush=True)
    sys.exit(2)


if (_why := worker_refusal(workers, _config)) is not None:
    _refuse(_why)

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
# Several workers each listen on SANDBOX_PORT with SO_REUSEPORT, so the kernel spreads new connections between them:
# on one shared socket the first worker awake takes a burst of keep-alive connections (a proxy's pool, a load test)
# and keeps them while the others idle. The master then binds nothing, so on_starting checks the port is free.
reuse_port = workers > 1

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


def on_starting(server) -> None:
    """In the master, once every setting is final: refuse a worker count GUNICORN_CMD_ARGS or --workers raised past
    what the store allows, then bind the proxy and TLS ports, so every worker accepts on the same ones."""
    global listeners
    if (why := worker_refusal(server.cfg.workers, _config)) is not None:
        _refuse(why)
    if server.cfg.reuse_port:
        _check_free(_config.host, _config.port)
    try:
        listeners = Listeners.bind(_config.host, _config.proxy_port, _config.tls_port)
    except OSError as exc:
        which = f"SANDBOX_PROXY_PORT={_config.proxy_port} / SANDBOX_TLS_PORT={_config.tls_port}"
        _refuse(f"cannot listen on {_config.host} ({which}): {exc.strerror}")


def _check_free(host: str, port: int) -> None:
    """Refuse a port something else listens on: a worker could not bind it, and gunicorn would start it again and
    again (SO_REUSEPORT sockets admit only one another, so a plain bind finds any listener)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            _refuse(f"cannot listen on {host}:{port} (SANDBOX_HOST, SANDBOX_PORT): {exc.strerror}")


listeners = Listeners()  # sandbox.wsgi, in each forked worker, serves the ports on these


def worker_exit(server, worker) -> None:
    """Stop the sandbox in the worker: the dispatcher, then the store file written whole (SANDBOX_DATA)."""
    wsgi = sys.modules.get("sandbox.wsgi")
    if wsgi is not None:  # absent when the app failed to load: nothing to flush
        wsgi.stop()

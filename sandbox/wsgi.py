"""The WSGI entry for a production server: `gunicorn -c python:sandbox.gunicorn_conf sandbox.wsgi:app`."""

from __future__ import annotations

import atexit
import errno
import logging
import os
import socket
import sys
import threading

from sandbox import allocator
from sandbox.admin.access import exposure_warning, reachable_from_elsewhere
from sandbox.app import create_app
from sandbox.config import Config
from sandbox.core.storefile import StoreFileError
from sandbox.transport import ports
from sandbox.transport.hosts import loopback

# Import this module in the process that serves (never in a pre-fork master: threads do not survive a fork).
config = Config.from_env()
config.token = config.access_token()  # a SANDBOX_TOKEN_FILE is read once (gunicorn_conf has checked it)
logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
allocator.tune_for_a_server()  # a long-running worker: its heap settings before the store loads
try:
    flask_app = create_app(config)  # loads SANDBOX_SCENARIOS, and a SANDBOX_DATA store with its pending notifications
except StoreFileError as exc:
    # gunicorn_conf checks the file's shape first; what only loading finds ends the worker with status 3, gunicorn's
    # "worker failed to boot", which stops gunicorn rather than restarting the worker for ever.
    print(f"paysandbox: {exc}", file=sys.stderr)
    raise SystemExit(3) from None
sandbox = flask_app.extensions["paysandbox"]
transport = ports.Transport()
_stop_lock = threading.Lock()
_stopped = False
# Which process answered, on every answer of the plain port: with several workers or replicas behind one address,
# this says which one to look at (a container's host name is its id).
PROCESS = ("X-Sandbox-Process", f"{socket.gethostname()}/{os.getpid()}")


def app(environ: dict, start_response):
    """The sandbox app, with a scenario's dropped connection reported as the reset gunicorn ignores quietly."""

    def start_tagged(status, headers, exc_info=None):
        return start_response(status, [*headers, PROCESS], exc_info)

    try:
        return flask_app(environ, start_tagged)
    except ConnectionAbortedError as exc:
        # api.disconnect has already shut the socket; gunicorn logs any other socket error with a traceback.
        raise ConnectionResetError(errno.ECONNRESET, str(exc)) from exc


def start() -> None:
    """Start the dispatcher, the store's background flush, and SANDBOX_PROXY_PORT / SANDBOX_TLS_PORT if set; warn
    when the control API is open to the network."""
    global transport
    sandbox.start()
    if not transport.servers:
        # The same threaded servers as `paysandbox serve`'s, inside this worker: gunicorn serves SANDBOX_PORT only.
        # gunicorn_conf's master has bound their ports, so that several workers accept on the same ones; under
        # another configuration this worker binds them itself.
        host = loopback(config.host)
        direct_url = f"http://{host}:{config.port}"
        try:
            bound = getattr(sys.modules.get("sandbox.gunicorn_conf"), "listeners", None)  # the master's sockets
            transport = ports.start(flask_app, config.host, config.proxy_port, config.tls_port, direct_url, bound)
        except OSError as exc:
            which = f"SANDBOX_PROXY_PORT={config.proxy_port} / SANDBOX_TLS_PORT={config.tls_port}"
            raise SystemExit(f"paysandbox: cannot listen on {config.host} ({which}): {exc.strerror}") from None
        for line in ports.banner(transport, host, direct_url):
            logging.getLogger("paysandbox").info(line.strip())
    if not config.token and reachable_from_elsewhere(config.host):
        print(exposure_warning(config.host, config.port), file=sys.stderr, flush=True)


def stop() -> None:
    """Stop the proxy and TLS ports and the dispatcher, and write the store file whole (idempotent): gunicorn's
    worker_exit calls it."""
    global _stopped
    with _stop_lock:
        if _stopped:
            return
        _stopped = True
    transport.stop()
    # Journal what changed first: stopping waits for an in-flight delivery, which may outlast the grace period.
    sandbox.store.flush()
    sandbox.stop()


start()
atexit.register(stop)  # for servers without a worker exit hook

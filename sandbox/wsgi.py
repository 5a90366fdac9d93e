"""The WSGI entry for a production server: `gunicorn -c python:sandbox.gunicorn_conf sandbox.wsgi:app`."""

from __future__ import annotations

import atexit
import errno
import logging
import threading

from sandbox.app import create_app
from sandbox.config import Config

# Import this module in the process that serves (never in a pre-fork master: threads do not survive a fork).
config = Config.from_env()
logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
flask_app = create_app(config)  # loads SANDBOX_SCENARIOS, and a SANDBOX_DATA store with its pending notifications
sandbox = flask_app.extensions["paysandbox"]
_stop_lock = threading.Lock()
_stopped = False


def app(environ: dict, start_response):
    """The sandbox app, with a scenario's dropped connection reported as the reset gunicorn ignores quietly."""
    try:
        return flask_app(environ, start_response)
    except ConnectionAbortedError as exc:
        # api.disconnect has already shut the socket; gunicorn logs any other socket error with a traceback.
        raise ConnectionResetError(errno.ECONNRESET, str(exc)) from exc


def start() -> None:
    """Start the dispatcher and the store's background flush (idempotent)."""
    sandbox.start()


def stop() -> None:
    """Stop the dispatcher and write the store file whole (idempotent): gunicorn's worker_exit calls it."""
    global _stopped
    with _stop_lock:
        if _stopped:
            return
        _stopped = True
    # Journal what changed first: stopping waits for an in-flight delivery, which may outlast the grace period.
    sandbox.store.flush()
    sandbox.stop()


start()
atexit.register(stop)  # for servers without a worker exit hook

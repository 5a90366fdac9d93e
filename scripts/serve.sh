#!/usr/bin/env bash
# The README's first command: install paysandbox into .venv and run the sandbox (every gateway on :8008, the demo
# merchants, state in memory) with the demo shop beside it on :8010. Extra arguments go to `paysandbox demo`
# (any `paysandbox serve` option, e.g. --data FILE to keep state, plus --shop-port and friends).
source "$(dirname "$0")/_venv.sh"
.venv/bin/pip install --quiet -e .
exec .venv/bin/paysandbox demo "$@"

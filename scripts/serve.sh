#!/usr/bin/env bash
# The README's first command: install paysandbox into .venv and serve it with the demo merchants,
# state in memory (pass --data FILE to keep it). Extra arguments go to `paysandbox serve`.
source "$(dirname "$0")/_venv.sh"
.venv/bin/pip install --quiet -e .
exec .venv/bin/paysandbox serve "$@"

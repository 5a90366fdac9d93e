#!/usr/bin/env bash
# The README's second command (and what CI runs): install everything the tests need, lint, run the suite.
# Installs Debian's chromium for the browser tests when it is missing. Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh"
if [ ! -x /usr/bin/chromium ]; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
.venv/bin/pip install --quiet -e ".[test]"
# Both Alipay SDKs ship alipay/__init__.py; python-alipay-sdk's must be the one left (PROTOCOLS.md).
.venv/bin/pip install --quiet --force-reinstall --no-deps python-alipay-sdk==3.4.0
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"

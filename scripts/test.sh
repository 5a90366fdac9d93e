#!/usr/bin/env bash
# The README's second command (and what CI runs): install everything the tests need, lint, run the suite.
# Installs the Debian packages the tests drive for real when they are missing: Chromium (browser tests) and a CJK font
# (fonts-noto-cjk, so Chinese text renders in its screenshots), a JDK
# (the Java clients and examples/java), Node.js and npm (the Node SDKs, pinned by tests/node/package-lock.json and
# examples/node/package-lock.json), Go (examples/go, standard library only) and PHP with Debian's Guzzle (examples/php),
# curl (the proxy recipes),
# PostgreSQL (the PostgreSQL store: a throwaway cluster for the run, stopped and removed however the run ends), wrk
# (bench/workers.py's load) and nginx (the compose example's front proxy, run by tests/examples/test_compose.py).
# Runs the suite on every core (pytest-xdist); extra arguments go to pytest (`-n 0` runs it in one process).
# The documentation site needs nothing extra: the test extra includes the docs extra (MkDocs, Material), and
# tests/docs/test_site.py builds the site with `mkdocs build --strict` inside the suite, so a broken link fails CI.
source "$(dirname "$0")/_venv.sh"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# A CJK font, so the pages' Chinese text renders in Chromium (tests/glyphs.py fails on empty boxes).
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || missing+=(fonts-noto-cjk)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v go >/dev/null || missing+=(golang-go)  # examples/go: the standard library only, no module download
[ -f /usr/share/php/GuzzleHttp/autoload.php ] || missing+=(php-cli php-curl php-guzzlehttp-guzzle)  # examples/php
command -v curl >/dev/null || missing+=(curl)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
.venv/bin/pip install --quiet -e ".[test]"
# Both Alipay SDKs ship alipay/__init__.py; python-alipay-sdk's must be the one left, so it is installed last.
.venv/bin/pip install --quiet --force-reinstall --no-deps python-alipay-sdk==3.4.0
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error)
.venv/bin/ruff check .
.venv/bin/ruff format --check .
cluster=$(mktemp -d -t paysandbox-pg.XXXXXX)
trap '.venv/bin/python -m tests.postgres stop "$cluster"' EXIT
PAYSANDBOX_TEST_POSTGRES=$(.venv/bin/python -m tests.postgres start "$cluster")
export PAYSANDBOX_TEST_POSTGRES
.venv/bin/python -m pytest -n auto "$@"

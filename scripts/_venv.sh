# Sourced by serve.sh and test.sh: make .venv (a virtualenv at the repo root) with the package installed.
# A virtualenv works the same on a distro Python that refuses global pip installs (PEP 668).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    rm -rf .venv
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
    python3 -m venv .venv
  fi
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

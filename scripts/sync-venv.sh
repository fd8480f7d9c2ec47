#!/usr/bin/env bash
# sync-venv.sh [VENV]: the locked dependencies and the project, installed into VENV (.venv).
#
# The lock is requirements.lock: every package pinned with its hashes and no
# index URLs, so it names no package index (uv.lock would) and installs from
# whatever index the host's uv is configured for. Update it with
# scripts/update-lock.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
[ -x "$venv/bin/python" ] || uv venv --quiet "$venv"
uv pip sync --quiet --python "$venv/bin/python" --require-hashes requirements.lock
uv pip install --quiet --python "$venv/bin/python" --no-deps --editable .

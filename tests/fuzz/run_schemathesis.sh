#!/usr/bin/env bash
# Schemathesis over the whole OpenAPI document with a merchant's and a provider's
# token, against `fuwu serve` on a fresh database (see run_schemathesis.py).
# Schemathesis lives in its own virtual environment, .venv-fuzz.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv-fuzz/bin/st ]; then
  python3 -m venv .venv-fuzz
  .venv-fuzz/bin/python -m pip install --quiet "schemathesis>=4.32,<4.33"
fi
exec .venv/bin/python tests/fuzz/run_schemathesis.py "$@"

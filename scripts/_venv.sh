# Shared by scripts/demo and scripts/test: create .venv if missing and use it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "dnnfix: creating .venv with $($PY --version 2>&1)" >&2
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >&2
fi
export PATH="$ROOT/.venv/bin:$PATH"

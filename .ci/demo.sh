#!/usr/bin/env bash
# `make demo`: every app that exists, end to end on its embedded default data:
# fit a small model, predict, check its symmetry, print metrics and where outputs are.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
out="${DEMO_OUTPUT:-demo_output}"
mkdir -p "$out"
start=$(date +%s)
ran=0
for app in dna molprop medseg; do
  script="data_recipes/demo_${app}.sh"
  if [ -f "$script" ]; then
    echo "=== gdl-${app} demo (outputs in $out/$app) ==="
    t0=$(date +%s)
    bash "$script" "$out/$app"
    echo "=== gdl-${app} demo done in $(( $(date +%s) - t0 )) s ==="
    ran=$((ran + 1))
  fi
done
echo "demo: ran $ran app(s) in $(( $(date +%s) - start )) s; outputs under $out/"

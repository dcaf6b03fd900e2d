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
# What the symmetry prior is worth, per app: a tiny prior-report (2 modes x 2 training
# fractions, 1 seed, the small config's budget) on the same embedded data.
for app in dna molprop medseg; do
  [ -f "configs/${app}/small.yaml" ] || continue
  mkdir -p "$out/$app"
  echo "=== gdl-${app} prior-report (outputs in $out/$app/prior_report) ==="
  t0=$(date +%s)
  gdl-"$app" prior-report --config "configs/${app}/small.yaml" --modes equivariant none \
    --fractions 0.5 1.0 --seeds 1 --output "$out/$app/prior_report" \
    2>"$out/$app/prior_report.log" | sed -n '/^| mode/,/^Note/p' || {
    tail -20 "$out/$app/prior_report.log"; exit 1; }
  echo "=== gdl-${app} prior-report done in $(( $(date +%s) - t0 )) s ==="
done
echo "demo: ran $ran app(s) in $(( $(date +%s) - start )) s; outputs under $out/"

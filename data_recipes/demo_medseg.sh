#!/usr/bin/env bash
# gdl-medseg demo: synthetic phantoms in the nnU-Net layout -> verify -> fit (small
# octahedral U-Net, about a minute on 2 CPU cores) -> predict NIfTI in the input geometry
# -> evaluate (Dice, HD95, volume) -> check-symmetry over the 24 cube rotations.
# Usage: bash data_recipes/demo_medseg.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: demo_medseg.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
bin=.venv/bin/gdl-medseg
export GDL_CACHE_DIR="$out/cache" GDL_NO_PROGRESS=1

data="$out/Dataset001_Phantoms"
rm -rf "$data" "$out/fit" "$out/pred" "$out/pred.errors.tsv"
.venv/bin/python -m data_recipes.medseg_phantoms "$data" --cases 8 --size 32 >/dev/null
echo "--- verify"
"$bin" verify "$data"
echo "--- fit (configs/medseg/small.yaml, 48 short epochs)"
"$bin" fit --config configs/medseg/small.yaml --data.path "$data" \
  --model.channels "[48, 48]" --model.lr 0.01 --data.patch_size 17 --data.augment false \
  --data.val_mode random --data.val_samples 4 \
  --data.samples_per_epoch 8 --data.foreground_fraction 0.6 --trainer.max_epochs 48 \
  --trainer.default_root_dir "$out/fit" 2>&1 | grep -E "checkpoint:|largest component" || true
ckpt="$out/fit/checkpoints/best.ckpt"
test -f "$ckpt"
echo "--- predict"
"$bin" predict --checkpoint "$ckpt" --input "$data/imagesTr" --output "$out/pred" --overlap 0.5
echo "--- evaluate"
"$bin" evaluate --pred "$out/pred" --ref "$data/labelsTr" --output "$out/metrics.csv" \
  --dataset-json "$data/dataset.json"
echo "--- check-symmetry (escnn network and its plain-PyTorch export)"
"$bin" check-symmetry --checkpoint "$ckpt" 2>/dev/null
echo "outputs: checkpoint $ckpt; predictions $out/pred/; metrics $out/metrics.csv"

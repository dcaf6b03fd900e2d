#!/usr/bin/env bash
# gdl-dna demo: fit the small config on the embedded planted-motif data (real JASPAR
# motifs), predict a FASTA with a bad record, check RC symmetry, explain one sequence.
# Usage: bash data_recipes/demo_dna.sh OUTPUT_DIR
set -euo pipefail
out="${1:?usage: demo_dna.sh OUTPUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.venv/bin"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

echo "--- fit (configs/dna/small.yaml, embedded planted-motif data)"
"$bin/gdl-dna" fit --config "$root/configs/dna/small.yaml" --trainer.max_epochs 3 \
  --trainer.default_root_dir "$out/run" --trainer.enable_progress_bar false 2>"$out/fit.log" || {
  tail -20 "$out/fit.log"; exit 1; }
grep -E "^(final metrics|last checkpoint)" "$out/fit.log" | sed 's/ train\/[^ ]*//g'
ckpt="$(ls -t "$out"/run/lightning_logs/version_*/checkpoints/last.ckpt | head -1)"

echo "--- predict (FASTA of planted-motif sequences plus one bad record)"
"$bin/python" - "$out/demo.fa" <<'PY'
import sys
from data_recipes.dna_planted_motifs import generate
names, rows = generate(50, 100, seed=123)
with open(sys.argv[1], "w") as fh:
    for rid, seq, _ in rows:
        fh.write(f">{rid}\n{seq}\n")
    fh.write(">not_dna\nACGTJACGT\n")
PY
"$bin/gdl-dna" predict --checkpoint "$ckpt" --input "$out/demo.fa" --output "$out/predictions.tsv"
head -4 "$out/predictions.tsv"

echo "--- check-symmetry"
"$bin/gdl-dna" check-symmetry --checkpoint "$ckpt" 2>/dev/null

echo "--- explain (RC-symmetrised in-silico mutagenesis)"
"$bin/gdl-dna" explain --checkpoint "$ckpt" --input "$out/demo.fa" --output "$out/explain" \
  --max-sequences 1

echo "outputs: $out/predictions.tsv, $out/predictions.tsv.errors.tsv, $out/explain/, checkpoint $ckpt"

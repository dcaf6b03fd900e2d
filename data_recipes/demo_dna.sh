#!/usr/bin/env bash
# gdl-dna demo: fit the small config on the embedded planted-motif data (real JASPAR
# motifs), predict a FASTA with a bad record, check RC symmetry, explain one sequence,
# and score VCF variants (SNVs, an indel, bad rows) on a genome made of embedded data.
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
grep -E "^(final metrics|best checkpoint)" "$out/fit.log" | sed 's/ train\/[^ ]*//g'
ckpt="$(ls -t "$out"/run/lightning_logs/version_*/checkpoints/best.ckpt | head -1)"

echo "--- predict (FASTA of planted-motif sequences plus one bad record)"
"$bin/python" - "$out/demo.fa" <<'PY'
import sys
from gdl_dna.data.planted_motifs import generate
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

echo "--- variant-effect (a genome of embedded sequences, a small VCF with 2 bad rows)"
"$bin/python" - "$out/genome.fa" "$out/variants.vcf" <<'PY'
import sys
import numpy as np
from gdl_dna.data.planted_motifs import generate
_, rows = generate(40, 100, seed=321)
chroms = {"chr1": "".join(s for _, s, _ in rows[:20]), "chr2": "".join(s for _, s, _ in rows[20:])}
with open(sys.argv[1], "w") as fh:
    for name, seq in chroms.items():
        fh.write(f">{name}\n{seq}\n")
rng = np.random.default_rng(0)
lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
for i, pos in enumerate(sorted(rng.choice(np.arange(60, 1900), 8, replace=False))):
    ref = chroms["chr1"][pos - 1]
    lines.append(f"chr1\t{pos}\tsnv{i}\t{ref}\t{'ACGT'[('ACGT'.index(ref) + 1) % 4]}\t.\t.\t.")
lines.append(f"chr2\t500\tdel0\t{chroms['chr2'][499:503]}\t{chroms['chr2'][499]}\t.\t.\t.")
lines.append("chr1\t100\tbad_ref\tNNNN\tA\t.\t.\t.")
lines.append("chr9\t100\tno_chrom\tA\tG\t.\t.\t.")
with open(sys.argv[2], "w") as fh:
    fh.write("\n".join(lines) + "\n")
PY
"$bin/gdl-dna" variant-effect --checkpoint "$ckpt" --vcf "$out/variants.vcf" \
  --genome "$out/genome.fa" --output "$out/effects.tsv"
head -4 "$out/effects.tsv" | cut -f1-9

echo "outputs: $out/predictions.tsv, $out/predictions.tsv.errors.tsv, $out/explain/,"
echo "  $out/effects.tsv, $out/effects.tsv.errors.tsv, checkpoint $ckpt"

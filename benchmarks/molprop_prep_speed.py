"""Where gdl-molprop's preparation time goes: conformer settings and graph sizes.

For the first N molecules of the shared Biogen ADME file, one process:
- milliseconds per molecule of ``prepare_smiles`` (parse, embed, features) for ETKDGv3
  with hydrogens + MMFF94 (the previous default), ETKDGv3 with hydrogens and no force
  field, and ETKDGv3 on the heavy-atom graph (the default now);
- edges per molecule of the default graph: bond edges (D-MPNN) and all edges within
  the 5 Å cutoff (the radial stage).

    .venv/bin/python benchmarks/molprop_prep_speed.py [--n 200]

Writes ``benchmarks/results/molprop_prep_speed.{json,md}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = Path(os.environ.get("GDL_SHARED_DATA", ROOT / ".." / "shared" / "data"))
SETTINGS = {
    "ETKDGv3 + H + MMFF94 (before)": dict(forcefield="mmff", embed_hydrogens=True),
    "ETKDGv3 + H, no force field": dict(forcefield="none", embed_hydrogens=True),
    "ETKDGv3 heavy atoms, no force field (default)": dict(
        forcefield="none", embed_hydrogens=False
    ),
}


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    from gdl_molprop.data.chem import PrepSettings, prepare_smiles
    from gdl_molprop.data.featurize import molecule_graph

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args(argv)
    with open(SHARED / "biogen_adme.csv", newline="") as fh:
        smiles = [r["smiles"] for r in csv.DictReader(fh)][: args.n]
    rows, default_mols = [], []
    for label, kwargs in SETTINGS.items():
        settings = PrepSettings(**kwargs)
        start = time.perf_counter()
        mols = [prepare_smiles(s, settings) for s in smiles]
        ms = 1000 * (time.perf_counter() - start) / len(smiles)
        rows.append({"setting": label, "ms_per_molecule": ms, "ok": sum(m.ok for m in mols)})
        print(f"{label}: {ms:.1f} ms/molecule", file=sys.stderr)
        default_mols = mols
    graphs = [molecule_graph(m, 0, "3d", 5.0) for m in default_mols if m.ok]
    bond = [int((g.edge_attr[:, 0] == 0).sum()) for g in graphs]
    total = [int(g.edge_index.shape[1]) for g in graphs]
    edges = {
        "atoms_per_molecule": float(np.mean([g.num_nodes for g in graphs])),
        "bond_edges_per_molecule": float(np.mean(bond)),
        "edges_within_cutoff_per_molecule": float(np.mean(total)),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"n": len(smiles), "machine": f"{os.cpu_count()} shared CPU cores, one process"}
    (RESULTS / "molprop_prep_speed.json").write_text(
        json.dumps({"meta": meta, "settings": rows, "graph": edges}, indent=1)
    )
    lines = [
        f"Preparation of the first {len(smiles)} Biogen ADME molecules, one process "
        "(shared 2-core machine).",
        "",
        "| conformer setting | ms per molecule | ok |",
        "|---|---|---|",
        *[f"| {r['setting']} | {r['ms_per_molecule']:.1f} | {r['ok']} |" for r in rows],
        "",
        f"Default graphs: {edges['atoms_per_molecule']:.1f} heavy atoms, "
        f"{edges['bond_edges_per_molecule']:.1f} directed bond edges and "
        f"{edges['edges_within_cutoff_per_molecule']:.1f} directed edges within 5 Å "
        "per molecule.",
    ]
    (RESULTS / "molprop_prep_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

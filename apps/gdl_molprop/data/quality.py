"""Checks of a training table that warn rather than stop: text in target cells and
duplicate molecules with conflicting targets.

Real assay exports have both. Biogen-like data carries the same compound measured
twice (salt forms, re-tests), and a cell such as ``>30`` where the assay hit its limit.
Neither should abort a fit. Each problem is masked or kept as is, and counted on stderr
with a few example lines, so the user can decide.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Sequence

from rdkit import Chem

from gdl_molprop.data.readers import NON_NUMERIC, MolRecord

EXAMPLES = 3


def report_non_numeric(records: Sequence[MolRecord], path: str, file=None) -> int:
    """Print how many rows had a text target (masked); returns that count."""
    bad = [r for r in records if any(n.startswith(NON_NUMERIC) for n in r.notes)]
    if bad:
        shown = bad[:EXAMPLES]
        examples = "; ".join(f"line {r.line} (id={r.id}): {', '.join(r.notes)}" for r in shown)
        more = f"; ... and {len(bad) - EXAMPLES} more" if len(bad) > EXAMPLES else ""
        print(
            f"molprop: {path}: {len(bad)} row(s) with a {NON_NUMERIC}, masked like a blank "
            f"cell: {examples}{more}",
            file=file or sys.stderr,
        )
    return len(bad)


def _canonical(smiles: str) -> str:
    mol = Chem.MolFromSmiles(smiles.strip()) if smiles.strip() else None
    return Chem.MolToSmiles(mol) if mol is not None else smiles.strip()


def conflicting_duplicates(records: Sequence[MolRecord], tolerance: float = 1e-6) -> list[list]:
    """Groups (of 2+ records) with the same canonical SMILES whose targets differ where
    present. SDF records (mol blocks, no SMILES text) are not compared."""
    groups: dict[str, list[MolRecord]] = defaultdict(list)
    for r in records:
        if r.source.smiles.strip():
            groups[_canonical(r.source.smiles)].append(r)
    conflicts = []
    for group in groups.values():
        if len(group) < 2:
            continue
        for t in range(len(group[0].targets)):
            values = [r.targets[t] for r in group if not math.isnan(r.targets[t])]
            if values and max(values) - min(values) > tolerance:
                conflicts.append(group)
                break
    return conflicts


def report_duplicates(records: Sequence[MolRecord], path: str, file=None) -> int:
    """Warn about conflicting duplicates (kept as separate rows); returns the group count."""
    conflicts = conflicting_duplicates(records)
    if conflicts:
        rows = sum(len(g) for g in conflicts)
        examples = "; ".join(
            "lines " + ", ".join(str(r.line) for r in g) for g in conflicts[:EXAMPLES]
        )
        print(
            f"molprop: warning: {path}: {len(conflicts)} molecule(s) appear more than once "
            f"with conflicting targets ({rows} rows, kept as separate rows; average or drop "
            f"them if that is not what you want): {examples}",
            file=file or sys.stderr,
        )
    return len(conflicts)

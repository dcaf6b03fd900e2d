"""The report: per (mode, fraction) mean ± sd over seeds, a Markdown table, verdict lines.

Every sentence of the verdict is computed from the summary numbers: a difference is
called a gain or a loss only when it is larger than the seeds' spread (the larger sd of
the two modes) or, with a single seed, than the app's ``level_tolerance``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gdl_science.prior_report.hooks import PriorHooks

SECTIONS = ("given", "transformed", "consistency")


def _stats(values: Sequence[float]) -> dict[str, float]:
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not vals:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    mean = sum(vals) / len(vals)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return {"mean": mean, "sd": sd, "n": len(vals)}


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (mode, fraction) in grid order: every metric's mean, sd and n."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for r in sorted(records, key=lambda r: r["cell"]["index"]):
        groups.setdefault((r["cell"]["mode"], r["cell"]["fraction"]), []).append(r)
    rows = []
    for (mode, fraction), cells in groups.items():
        row: dict[str, Any] = {"mode": mode, "fraction": fraction,
                               "seeds": [c["cell"]["seed"] for c in cells],
                               "n_train": _stats([c["n_train"] for c in cells])["mean"]}
        for section in SECTIONS:
            keys = sorted({k for c in cells for k in c.get(section, {})})
            row[section] = {k: _stats([c[section].get(k, float("nan")) for c in cells])
                            for k in keys}
        rows.append(row)
    return rows


def _get(row: dict[str, Any], section: str, key: str) -> dict[str, float]:
    return row[section].get(key, {"mean": float("nan"), "sd": float("nan"), "n": 0})


def _pm(s: dict[str, float], digits: int = 3, scale: float = 1.0) -> str:
    if not s["n"]:
        return "-"
    if s["n"] == 1:
        return f"{scale * s['mean']:.{digits}f}"
    return f"{scale * s['mean']:.{digits}f} ± {scale * s['sd']:.{digits}f}"


def markdown_table(rows: list[dict[str, Any]], hooks: PriorHooks) -> str:
    """mode × fraction: the headline metric as given and transformed, and consistency."""
    m, c = hooks.metric, hooks.change
    pct, unit = (100.0, " (%)") if hooks.percent_change else (1.0, "")
    lines = [
        f"| mode | fraction | training records | {m} | {m} under {hooks.group} | "
        f"{c}{unit} | max_change{unit} |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: (r["fraction"], r["mode"])):
        lines.append(
            f"| {row['mode']} | {row['fraction']:g} | {row['n_train']:.0f} | "
            f"{_pm(_get(row, 'given', m))} | {_pm(_get(row, 'transformed', m))} | "
            f"{_pm(_get(row, 'consistency', c), 4, pct)} | "
            f"{_pm(_get(row, 'consistency', 'max_change'), 4, pct)} |"
        )
    return "\n".join(lines) + "\n"


def _row(rows: list[dict[str, Any]], mode: str, fraction: float) -> dict[str, Any] | None:
    return next((r for r in rows if r["mode"] == mode and r["fraction"] == fraction), None)


def compare(a: dict[str, float], b: dict[str, float], higher_is_better: bool,
            tolerance: float) -> tuple[str, float, float]:
    """(pays | level | loses, signed difference a - b, the threshold used)."""
    diff = a["mean"] - b["mean"]
    spread = max(a["sd"], b["sd"]) if min(a["n"], b["n"]) > 1 else tolerance
    better = diff if higher_is_better else -diff
    if not math.isfinite(better) or abs(better) <= spread:
        return "level", diff, spread
    return ("pays" if better > 0 else "loses"), diff, spread


def _change(value: float, hooks: PriorHooks) -> str:
    return f"{100 * value:.2f}%" if hooks.percent_change else f"{value:.4g}"


def verdict(rows: list[dict[str, Any]], hooks: PriorHooks) -> list[str]:
    """Lines computed from ``rows``: each prior mode against ``none`` (or, without
    ``none``, against the last mode) at each fraction, as given and transformed; then
    what each mode's predictions do under the group."""
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    fractions = sorted({r["fraction"] for r in rows})
    if not modes:
        return ["no finished cells: nothing to compare"]
    base = "none" if "none" in modes else modes[-1]
    lines = []
    for mode in [m for m in modes if m != base]:
        for section, where in (("given", ""), ("transformed", f" under {hooks.group}")):
            parts = []
            for f in fractions:
                a, b = _row(rows, mode, f), _row(rows, base, f)
                if a is None or b is None:
                    continue
                sa, sb = _get(a, section, hooks.metric), _get(b, section, hooks.metric)
                word, diff, spread = compare(sa, sb, hooks.higher_is_better,
                                             hooks.level_tolerance)
                n = min(sa["n"], sb["n"])
                basis = (f"{n} seeds, sd {spread:.3f}" if n > 1
                         else f"1 seed: no spread, level below {spread:g}")
                parts.append(f"at {100 * f:g}%: {word} ({diff:+.3f} {hooks.metric}; {basis})")
            if parts:
                lines.append(f"{mode} vs {base}{where}: " + "; ".join(parts) + ".")
    changes = []
    for mode in modes:
        vals = [_get(r, "consistency", hooks.change) for r in rows if r["mode"] == mode]
        vals = [v for v in vals if v["n"]]
        if vals:
            mean = sum(v["mean"] for v in vals) / len(vals)
            worst = max(_get(r, "consistency", "max_change")["mean"] for r in rows
                        if r["mode"] == mode)
            changes.append(f"{mode} {_change(mean, hooks)} (max {_change(worst, hooks)})")
    if changes:
        lines.append(f"Under {hooks.group}, {hooks.change_label} by (mean {hooks.change} over "
                     "fractions): "
                     + "; ".join(changes) + ".")
    return lines


def markdown_report(rows: list[dict[str, Any]], hooks: PriorHooks, header: list[str],
                    missing: list[str], not_run: dict[str, str] | None = None) -> str:
    parts = [f"# prior-report: what the symmetry prior is worth (group: {hooks.group})", ""]
    parts += [f"{h}  " for h in header] + [""]
    parts += [markdown_table(rows, hooks), "Verdict (computed from the table):", ""]
    parts += [f"- {line}" for line in verdict(rows, hooks)]
    if hooks.notes:
        parts += ["", *[f"Note: {n}" for n in hooks.notes]]
    for mode, why in (not_run or {}).items():
        parts += ["", f"Mode {mode} not run with this config: {why}"]
    if missing:
        parts += ["", f"Not finished ({len(missing)} cells): {', '.join(missing)}"]
    return "\n".join(parts) + "\n"

"""``prior_report.png``: the headline metric against the training fraction, one line per
mode with ± sd error bars, as given and under the group, and a consistency panel.
Drawn as ``learning_curves`` draws (Agg, one row of panels, written atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gdl_science.io.atomic import atomic_path
from gdl_science.prior_report.hooks import PriorHooks


def plot_report(rows: list[dict[str, Any]], hooks: PriorHooks, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("given", hooks.metric, f"{hooks.metric} (validation, as given)"),
        ("transformed", hooks.metric, f"{hooks.metric} under {hooks.group}"),
        ("consistency", hooks.change, f"{hooks.change}: x vs g·x"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    fractions = sorted({r["fraction"] for r in rows})
    for ax, (section, key, title) in zip(axes[0], panels):
        for mode in modes:
            mine = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["fraction"])
            stats = [r[section].get(key) for r in mine]
            pts = [(r["fraction"], s) for r, s in zip(mine, stats) if s and s["n"]]
            if not pts:
                continue
            scale = 100.0 if section == "consistency" and hooks.percent_change else 1.0
            ax.errorbar(
                [f for f, _ in pts], [s["mean"] * scale for _, s in pts],
                yerr=[s["sd"] * scale for _, s in pts], marker="o", ms=4, capsize=3, label=mode,
            )
        ax.set_xscale("log")
        ax.set_xticks(fractions, [f"{100 * f:g}%" for f in fractions])
        ax.minorticks_off()
        ax.set_xlabel("share of the training split")
        ax.set_title(title + (" (%)" if section == "consistency" and hooks.percent_change
                              else ""))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path

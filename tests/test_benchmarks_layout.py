"""benchmarks/ holds reproducers of cited figures, nothing else.

- Every script in ``benchmarks/`` (apart from helper modules that other scripts import)
  is cited in a guide (``benchmarks/<name>.py`` in docs/*.md) and run by a test under
  tests/ (its smoke test names it).
- ``benchmarks/results/`` keeps the latest Markdown, JSON and PNG per claim: no raw run
  logs, no "before" snapshots, and no file of a script that no longer exists.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
RESULTS = BENCHMARKS / "results"
RESULT_SUFFIXES = {".md", ".json", ".png"}


def scripts() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BENCHMARKS.glob("*.py")) if p.stem != "__init__"}


def imported_names(path: Path) -> set[str]:
    """Top-level module names a file imports (``benchmarks.x`` counts as ``x``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            parts = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            parts = [node.module.split(".")]
        else:
            continue
        for p in parts:
            names.add(p[1] if p[0] == "benchmarks" and len(p) > 1 else p[0])
    return names


def run_scripts(path: Path) -> set[str]:
    """Stems of the ``*.py`` files a script names in a string (run as a subprocess)."""
    return {
        Path(node.value).stem
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and node.value.endswith(".py") and "\n" not in node.value
    }


def has_main(path: Path) -> bool:
    return "__main__" in path.read_text(encoding="utf-8")


def helper_modules(found: dict[str, Path]) -> set[str]:
    """Parts of other scripts, not reproducers (the other script's smoke test and citation
    cover them): modules another script imports that cannot run alone (no ``__main__``),
    and scripts another script runs by file name."""
    imported = {n for stem, p in found.items() for n in imported_names(p) if n != stem}
    run = {n for stem, p in found.items() for n in run_scripts(p) if n != stem}
    return {n for n in found if n in run or (n in imported and not has_main(found[n]))}


def reproducers() -> dict[str, Path]:
    found = scripts()
    helpers = helper_modules(found)
    return {stem: path for stem, path in found.items() if stem not in helpers}


def uncited(guides: dict[str, str], names: list[str]) -> list[str]:
    text = "\n".join(guides.values())
    return [n for n in names if f"benchmarks/{n}.py" not in text]


def untested(test_texts: dict[str, str], names: list[str]) -> list[str]:
    text = "\n".join(test_texts.values())
    return [n for n in names if not re.search(rf"\b{re.escape(n)}\b", text)]


def bad_results(files: list[str], names: list[str]) -> list[str]:
    """Result files that are logs, snapshots, of another format or of no script."""
    problems = []
    for name in files:
        path = Path(name)
        stem = path.name.split(".")[0]
        if path.suffix == ".log":
            problems.append(f"{name}: a raw log (git keeps history; keep the .md/.json)")
        elif path.suffix not in RESULT_SUFFIXES:
            problems.append(f"{name}: keep .md, .json and .png only")
        elif re.search(r"(^|_)before(_|$)", stem):
            problems.append(f"{name}: a 'before' snapshot")
        elif not any(stem == n or stem.startswith(f"{n}_") for n in names):
            problems.append(f"{name}: no benchmarks/<script>.py writes it")
    return problems


def _guides() -> dict[str, str]:
    return {str(p): p.read_text(encoding="utf-8") for p in sorted((REPO / "docs").glob("*.md"))}


def _tests() -> dict[str, str]:
    this = Path(__file__).resolve()
    return {
        str(p): p.read_text(encoding="utf-8")
        for p in sorted((REPO / "tests").rglob("*.py"))
        if p.resolve() != this
    }


def test_every_benchmark_script_is_cited_in_a_guide():
    missing = uncited(_guides(), sorted(reproducers()))
    assert not missing, "not cited in docs/*.md as benchmarks/<name>.py: " + ", ".join(missing)


def test_every_script_the_docs_cite_exists():
    """Also when a script was removed: the guide must drop or date its citation."""
    docs = {**_guides(), "README.md": (REPO / "README.md").read_text(encoding="utf-8")}
    # ``REV:benchmarks/x.py`` (a path at a git revision, for `git show`) is history, not
    # a citation of a current script.
    cited = {m for text in docs.values()
             for m in re.findall(r"(?<![\w:])benchmarks/(\w+)\.py", text)}
    gone = sorted(cited - set(scripts()))
    assert not gone, "the docs cite scripts that do not exist: " + ", ".join(gone)


def test_every_benchmark_script_has_a_smoke_test():
    missing = untested(_tests(), sorted(reproducers()))
    assert not missing, "no test under tests/ names these scripts: " + ", ".join(missing)


def test_results_hold_only_current_md_json_png_of_existing_scripts():
    files = sorted(p.name for p in RESULTS.iterdir() if p.is_file()) if RESULTS.exists() else []
    problems = bad_results(files, sorted(scripts()))
    assert not problems, "benchmarks/results:\n" + "\n".join(problems)


def test_the_layout_checks_can_fail(tmp_path):
    a = tmp_path / "a_bench.py"
    a.write_text("from a_helper import x\nimport benchmarks.b_helper\nimport numpy\n"
                 "cmd = [python, str(ROOT / 'c_part.py')]\n"
                 "if __name__ == '__main__':\n    main()\n")
    assert imported_names(a) == {"a_helper", "b_helper", "numpy"}
    assert run_scripts(a) == {"c_part"}
    lib = tmp_path / "lib.py"
    lib.write_text("X = 1\n")
    found = {"a_bench": a, "a_helper": lib, "b_helper": a, "c_part": a}
    # b_helper is imported but runs alone (a reproducer that shares code); c_part is run
    assert helper_modules(found) == {"a_helper", "c_part"}
    assert uncited({"g": "python benchmarks/x.py --quick"}, ["x", "y"]) == ["y"]
    assert untested({"t": "load('x')  # x_more"}, ["x", "x_m"]) == ["x_m"]
    problems = bad_results(["x.log", "x_before.md", "x.jsonl", "z.md", "x_tf0.png", "x.json"],
                           ["x"])
    assert [p.split(":")[0] for p in problems] == ["x.log", "x_before.md", "x.jsonl", "z.md"]

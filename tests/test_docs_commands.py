"""Every ``gdl-*`` command line in the README's and the guides' code blocks parses.

Docs rot when a flag is renamed and nobody runs the README. This test extracts each
command from the fenced ``bash``/``sh``/``shell``/``console`` blocks of README.md and
docs/*.md (``\\`` continuations joined, ``#`` comments dropped, ``...`` path parts and
``[--optional value]`` brackets made concrete), and checks that it parses:
- ``fit``/``validate``/``test`` run the app's real LightningCLI in this process with
  ``--print_config`` appended, which validates every key and value against the classes
  (and the config file) and exits before anything is instantiated;
- every other subcommand is parsed with the app's argparse parser, without running it;
  the arguments a command hands to ``fit`` (``crossval ... -- FIT_ARGS``, the
  ``prior-report`` passthrough) are then checked as a ``fit`` command too.
Paths named in the docs need not exist: nothing reads them at parse time.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from gdl_science.cli import run_app
from gdl_science.cli.app import LIGHTNING_COMMANDS, build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
APPS = ("medseg", "dna", "molprop")
SHELL_FENCES = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^\s*```\s*([\w+-]*)\s*$")
PROGRAM = re.compile(r"^gdl-(medseg|dna|molprop)\)?$")  # `$(which gdl-dna) fit ...` too
SHELL_STOP = {"|", "||", "&&", ";", "&", ">", ">>", "2>", "<"}


@dataclass(frozen=True)
class DocCommand:
    source: str  # "docs/dna.md:42"
    app: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.source}: gdl-{self.app} {' '.join(self.args)}"


def shell_blocks(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of every fenced shell block."""
    blocks, current, start, lang = [], None, 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence and current is None:
            current, start, lang = [], number + 1, fence.group(1).lower()
        elif fence:
            if lang in SHELL_FENCES:
                blocks.append((start, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def joined_lines(start: int, lines: list[str]) -> list[tuple[int, str]]:
    """Shell lines with their ``\\`` continuations joined: (line number, text)."""
    out, buffer, first = [], "", start
    for offset, line in enumerate(lines):
        if not buffer:
            first = start + offset
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        out.append((first, buffer + stripped))
        buffer = ""
    if buffer:
        out.append((first, buffer))
    return out


def concrete(tokens: list[str]) -> list[str]:
    """Placeholders made concrete: ``[--opt v]`` -> ``--opt v``, ``a|b|c`` -> ``a``,
    ``runs/.../best.ckpt`` -> ``runs/x/best.ckpt``. A bare ``...`` (elided arguments)
    is kept, so the command fails: docs must show whole commands."""
    out, optional = [], False
    for token in tokens:
        if token.startswith("[-"):
            token, optional = token[1:], True
        if optional and token.endswith("]"):
            token, optional = token[:-1], False
        if "|" in token:
            token = token.split("|")[0]
        if token != "..." and "..." in token:
            token = token.replace("...", "x")
        out.append(token)
    return out


def commands_in(text: str, rel: str) -> list[DocCommand]:
    """The ``gdl-*`` commands of a Markdown text, named ``rel:line``."""
    found = []
    for start, lines in shell_blocks(text):
        for number, line in joined_lines(start, lines):
            try:
                tokens = shlex.split(line, comments=True)
            except ValueError as err:  # unbalanced quotes: a broken doc line
                raise AssertionError(f"{rel}:{number}: cannot split {line!r}: {err}") from err
            for i, token in enumerate(tokens):
                match = PROGRAM.match(token)
                if match:
                    rest = tokens[i + 1 :]
                    stop = next((j for j, t in enumerate(rest) if t in SHELL_STOP), len(rest))
                    found.append(DocCommand(f"{rel}:{number}", match.group(1),
                                            tuple(concrete(rest[:stop]))))
                    break
    return found


ALL = [
    cmd
    for doc in DOCS
    if doc.exists()
    for cmd in commands_in(doc.read_text(encoding="utf-8"), str(doc.relative_to(REPO)))
]


def _spec(app: str):
    return importlib.import_module(f"gdl_{app}.cli").SPEC


def parse_problem(app: str, args: list[str]) -> str | None:
    """None when ``gdl-<app> args`` parses; otherwise what the parser said."""
    if not args:
        return "no subcommand"
    if "..." in args:
        return "elided arguments ('...'): write the whole command"
    spec = _spec(app)
    err = io.StringIO()
    if args[0] in LIGHTNING_COMMANDS:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = run_app(spec, [*args, "--print_config"])
            except SystemExit as exit_:
                code = exit_.code or 0
            else:  # print_config always exits; returning means something ran
                return f"--print_config did not stop the command (returned {code})"
        return None if code == 0 else err.getvalue().strip()[-600:] or f"exit {code}"
    parser = build_parser(spec)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            parsed, extra = parser.parse_known_args(args)
        except SystemExit:
            return err.getvalue().strip()[-600:]
    if extra and not getattr(parsed, "passthrough", False):
        return f"unrecognized arguments: {' '.join(extra)}"
    fit_args = [*(getattr(parsed, "fit_args", None) or []), *extra]
    if fit_args and fit_args[0] == "--":
        fit_args = fit_args[1:]
    if fit_args:
        problem = parse_problem(app, ["fit", *fit_args])
        return None if problem is None else f"its fit arguments: {problem}"
    return None


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    # Configs are named relative to the repository root; argv is the program's alone
    # (LightningCLI warns when given both args and a foreign sys.argv).
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("sys.argv", ["gdl"])


def test_docs_have_commands_for_every_app():
    apps = {cmd.app for cmd in ALL}
    assert set(APPS) <= apps, f"no command found for {set(APPS) - apps}"
    subcommands = {(cmd.app, cmd.args[0]) for cmd in ALL if cmd.args}
    for app in APPS:
        for sub in ("fit", "predict", "check-symmetry"):
            assert (app, sub) in subcommands, f"the docs show no `gdl-{app} {sub}`"


@pytest.mark.parametrize("command", ALL, ids=str)
def test_doc_command_parses(command: DocCommand):
    problem = parse_problem(command.app, list(command.args))
    assert problem is None, f"{command}\n{problem}"


@pytest.mark.parametrize(
    "app, line",
    [
        ("dna", "fit --config configs/dna/default.yaml --model.headd strand"),  # renamed flag
        ("dna", "fit --config configs/dna/default.yaml --model.head sideways"),  # bad choice
        ("molprop", "predict --checkpoint m.ckpt --inputs new.csv --output p.csv"),
        ("medseg", "check-symmetry --checkpoint b.ckpt --dtype float16"),
        ("molprop", "crossval --folds 5 --output cv.md -- --config configs/molprop/default.yaml "
                    "--data.pth mols.csv"),
        ("dna", "prior-report --config configs/dna/default.yaml --model.headd strand "
                "--output prior/"),  # the fit arguments a command passes through
        ("dna", "fit ... --model.symmetry none"),
    ],
)
def test_broken_doc_lines_fail(app: str, line: str):
    assert parse_problem(app, concrete(shlex.split(line))) is not None


def test_extraction_joins_strips_and_substitutes():
    text = (
        "text gdl-dna fit --not-in-a-block\n"
        "```bash\n"
        "# a comment line\n"
        "gdl-dna predict --checkpoint runs/.../best.ckpt \\\n"
        "    --input a.fa --output p.tsv   # trailing comment\n"
        "torchrun --nnodes 2 $(which gdl-dna) fit --config c.yaml"
        " [--model.symmetry equivariant|augment|none]\n"
        "gdl-dna fit --data.val_chroms '[chr8]' > log.txt\n"
        "```\n"
        "```\n"
        "gdl-medseg plan: output, not a command\n"
        "```\n"
    )
    found = commands_in(text, "x.md")
    assert [c.source for c in found] == ["x.md:4", "x.md:6", "x.md:7"]
    assert found[0].args == ("predict", "--checkpoint", "runs/x/best.ckpt",
                             "--input", "a.fa", "--output", "p.tsv")
    assert found[1].args == ("fit", "--config", "c.yaml", "--model.symmetry", "equivariant")
    assert found[2].args == ("fit", "--data.val_chroms", "[chr8]")


LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces -> '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(path: Path) -> list[str]:
    """Relative links (file and #anchor) in ``path`` that point at nothing."""
    problems = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md":
            code_free = re.sub(r"```.*?```", "", linked.read_text(encoding="utf-8"), flags=re.S)
            if anchor not in {slug(h) for h in HEADING.findall(code_free)}:
                problems.append(f"{target}: no such heading")
    return problems


@pytest.mark.parametrize("doc", [d for d in DOCS if d.exists()], ids=lambda d: d.name)
def test_doc_links_resolve(doc: Path):
    problems = broken_links(doc)
    assert not problems, f"{doc.relative_to(REPO)}:\n" + "\n".join(problems)


def test_slug_matches_github():
    assert slug("Real MRI: MSD, held-out check") == "real-mri-msd-held-out-check"
    assert slug("The core: `gdl_science`") == "the-core-gdl_science"
    assert slug("SMILES → E(3)-invariant") == "smiles--e3-invariant"
    assert slug("GUE, held-out test sets") == "gue-held-out-test-sets"


def test_broken_links_are_found(tmp_path):
    (tmp_path / "g.md").write_text("# Guide\n## Real part\n```bash\n# not a heading\n```\n")
    doc = tmp_path / "r.md"
    doc.write_text("[a](g.md#real-part) [b](g.md#not-a-heading) [c](h.md) [d](https://x.org/y)")
    assert [p.split(":")[0] for p in broken_links(doc)] == ["g.md#not-a-heading", "h.md"]

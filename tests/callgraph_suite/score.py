"""Score a build's CALLS edges against the call-graph suite's hand-written expectations.

The suite (``repo/``, README.md) holds one program per module (or small package)
``cgsuite.<kind>.<name>``; ``expected/<kind>/<name>.json`` maps each caller qualname of the
program to the sorted list of its callee qualnames. A build's edges are read from its
``outputs/cpg_nodes`` and ``outputs/cpg_edges`` Delta tables with the same reader and the same
caller rule as the golden facts (harness/golden/check.py: the caller of a CALLSITE is the
MODULE/CLASS/FUNCTION that CONTAINS it). Per program, per kind and overall the score counts
true positives, false positives and false negatives; precision and recall are null when their
denominator is zero, and a scope with no expected and no found edge has the status
``no evidence``: it is never a 100% score. A run without output tables, or whose tables do not
hold the suite's modules, is an error (:class:`ScoreError`), not a score.

Command line: ``python -m tests.callgraph_suite.score RUN_DIR [--json]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.golden.check import _SCOPES, _Graph

SUITE = Path(__file__).resolve().parent
REPO = SUITE / "repo"
EXPECTED = SUITE / "expected"
PACKAGE = "cgsuite"
KINDS = (
    "arguments",
    "assignments",
    "builtins",
    "classes",
    "decorators",
    "dicts",
    "direct_calls",
    "dynamic_code",
    "exceptions",
    "external_calls",
    "functions",
    "generators",
    "imports",
    "keyword_arguments",
    "lambdas",
    "lists",
    "mro",
    "returns",
)
# The contract 1.1 targets of issue 13, reported (not asserted) by the suite's test.
TARGET_PRECISION = 0.99
TARGET_RECALL = 0.95
TARGET_KIND_RECALL = 0.85
TARGET_EXEMPT_KINDS = frozenset({"dynamic_code"})

NO_EVIDENCE = "no evidence"
SCORED = "scored"

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_COMPONENT = rf"(?:{_IDENT}|<locals>|<lambda_(?:0|[1-9][0-9]*)>)"
_QUALNAME = re.compile(rf"{_IDENT}(?:\.{_COMPONENT})*")

Edge = tuple[str, str]


class ScoreError(ValueError):
    """The suite's files or a build cannot be scored; the message names the file or run."""


def is_well_formed(qualname: str) -> bool:
    """A dotted qualname: identifiers, ``<locals>`` after a function and ``<lambda_N>``.

    ``<locals>`` never starts or ends a qualname nor follows another ``<locals>``; plain
    ``<lambda>`` (contract 1.0's shared name) is not a suite name.
    """
    if _QUALNAME.fullmatch(qualname) is None:
        return False
    return not qualname.endswith(".<locals>") and ".<locals>.<locals>" not in qualname


@dataclass(frozen=True)
class Program:
    """One suite program and its expected call graph."""

    kind: str
    name: str
    expected: Mapping[str, tuple[str, ...]]

    @property
    def prefix(self) -> str:
        return f"{PACKAGE}.{self.kind}.{self.name}"

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"

    def edges(self) -> frozenset[Edge]:
        return frozenset((caller, c) for caller, cs in self.expected.items() for c in cs)

    def owns(self, caller: str) -> bool:
        return caller == self.prefix or caller.startswith(self.prefix + ".")


def decode_program(kind: str, name: str, data: bytes, *, source: str) -> Program:
    """Decode one expectation file; ScoreError names ``source`` and every problem."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise ScoreError(f"{source}: not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ScoreError(f"{source}: expected an object of caller -> [callees]")
    problems: list[str] = []
    program = Program(kind, name, {})
    expected: dict[str, tuple[str, ...]] = {}
    for caller, callees in raw.items():
        if not is_well_formed(caller) or not program.owns(caller):
            problems.append(f"caller {caller!r} is not a qualname of {program.prefix}")
        if not isinstance(callees, list) or not callees:
            problems.append(f"callees of {caller!r}: expected a non-empty list")
            continue
        if not all(isinstance(c, str) and is_well_formed(c) for c in callees):
            problems.append(f"callees of {caller!r}: not all well-formed qualnames")
            continue
        if callees != sorted(set(callees)):
            problems.append(f"callees of {caller!r}: not sorted and unique")
        expected[caller] = tuple(callees)
    if problems:
        raise ScoreError(f"{source}: " + "; ".join(problems))
    return Program(kind, name, expected)


def load_programs(expected_dir: Path = EXPECTED) -> list[Program]:
    """Every ``<kind>/<name>.json`` under ``expected_dir``, by kind then name."""
    if not expected_dir.is_dir():
        raise ScoreError(f"{expected_dir}: no expectations folder")
    programs = [
        decode_program(path.parent.name, path.stem, path.read_bytes(), source=str(path))
        for path in sorted(expected_dir.glob("*/*.json"))
    ]
    if not programs:
        raise ScoreError(f"{expected_dir}: no expectation files")
    return programs


def program_sources(repo: Path = REPO) -> dict[str, dict[str, Path]]:
    """The modules of every program of the suite repo: ``kind/name`` -> {module: file}.

    A program is a module ``cgsuite/<kind>/<name>.py`` or a package ``cgsuite/<kind>/<name>/``
    (its modules named by their path under the package, ``__init__.py`` by the package).
    """
    root = repo / PACKAGE
    if not root.is_dir():
        raise ScoreError(f"{repo}: no {PACKAGE} package")
    out: dict[str, dict[str, Path]] = {}
    for kind_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"):
        for entry in sorted(kind_dir.iterdir()):
            prefix = f"{PACKAGE}.{kind_dir.name}.{entry.stem}"
            if entry.is_file() and entry.suffix == ".py" and entry.name != "__init__.py":
                out[f"{kind_dir.name}/{entry.stem}"] = {prefix: entry}
            elif entry.is_dir() and (entry / "__init__.py").is_file():
                modules: dict[str, Path] = {}
                for path in sorted(entry.rglob("*.py")):
                    parts = path.relative_to(entry).with_suffix("").parts
                    if parts[-1] == "__init__":
                        parts = parts[:-1]
                    modules[".".join((prefix, *parts))] = path
                out[f"{kind_dir.name}/{entry.name}"] = modules
    return out


class _Definitions(ast.NodeVisitor):
    """Full qualnames of the scopes of a module, lambdas numbered by order in their scope."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.stack: list[tuple[str, bool]] = []  # (local qualname, is a function scope)
        self.lambdas: dict[str, int] = {}
        self.names: set[str] = {module}

    def _local(self, name: str) -> str:
        if not self.stack:
            return name
        parent, is_function = self.stack[-1]
        return f"{parent}.<locals>.{name}" if is_function else f"{parent}.{name}"

    def _scope(self, node: ast.AST, name: str, is_function: bool) -> None:
        local = self._local(name)
        self.names.add(f"{self.module}.{local}")
        self.stack.append((local, is_function))
        self.generic_visit(node)
        self.stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_def(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_def(node)

    def _visit_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # decorators and defaults are evaluated in the enclosing scope
        for expr in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        local = self._local(node.name)
        self.names.add(f"{self.module}.{local}")
        self.stack.append((local, True))
        for stmt in node.body:
            self.visit(stmt)
        self.stack.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases]:
            self.visit(expr)
        local = self._local(node.name)
        self.names.add(f"{self.module}.{local}")
        self.stack.append((local, False))
        for stmt in node.body:
            self.visit(stmt)
        self.stack.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        scope = self.stack[-1][0] if self.stack else ""
        index = self.lambdas.get(scope, 0)
        self.lambdas[scope] = index + 1
        self._scope(node, f"<lambda_{index}>", True)


def defined_qualnames(modules: Mapping[str, Path]) -> set[str]:
    """The full qualnames that a program's modules define (modules, classes, functions, lambdas).

    Read with ``ast`` only: suite programs are parsed, never imported or run.
    """
    names: set[str] = set()
    for module, path in modules.items():
        visitor = _Definitions(module)
        visitor.visit(ast.parse(path.read_bytes(), filename=str(path)))
        names |= visitor.names
    return names


def found_edges(run_dir: Path) -> set[Edge]:
    """Every (caller, callee) qualname pair of a built run's CALLS edges.

    The caller is the qualname of the MODULE/CLASS/FUNCTION that CONTAINS the callsite, the
    callee the qualname of the CALLS target (harness/golden/check.py's rule). A run without
    output tables or without a single node is a ScoreError.
    """
    outputs = run_dir / "outputs"
    for table in ("cpg_nodes", "cpg_edges"):
        if not (outputs / table / "_delta_log").is_dir():
            raise ScoreError(f"{run_dir}: no {table} output table (not a built run?)")
    graph = _Graph(outputs)
    if not graph.kind_of:
        raise ScoreError(f"{run_dir}: the build has no nodes")
    name_of = {node_id: name for name, ids in graph.ids_by_name.items() for node_id in ids}
    scopes = {node_id for node_id, kind in graph.kind_of.items() if kind in _SCOPES}
    edges: set[Edge] = set()
    for kind, callsite, target in graph.edges:
        callee = name_of.get(target)
        if kind != "CALLS" or callee is None:
            continue
        for parent in graph.into.get(("CONTAINS", callsite), set()) & scopes:
            edges.add((name_of[parent], callee))
    return edges


def built_modules(run_dir: Path) -> set[str]:
    """The qualnames of the MODULE nodes of a built run."""
    graph = _Graph(run_dir / "outputs")
    return {name for (kind, name), ids in graph.ids_by_qualname.items() if kind == "MODULE" and ids}


@dataclass
class Counts:
    """True positives, false positives and false negatives of one scope."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def status(self) -> str:
        return NO_EVIDENCE if self.tp + self.fp + self.fn == 0 else SCORED

    @property
    def precision(self) -> float | None:
        """tp / found; null when nothing was found (no evidence of precision)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """tp / expected; null when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "status": self.status,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": rounded(self.precision),
            "recall": rounded(self.recall),
        }


@dataclass
class ProgramScore:
    program: Program
    counts: Counts
    missing: list[Edge] = field(default_factory=list)
    extra: list[Edge] = field(default_factory=list)


@dataclass
class Score:
    """The suite's score: per program, per kind (in KINDS order) and overall."""

    programs: list[ProgramScore]
    kinds: dict[str, Counts]
    overall: Counts
    programs_per_kind: dict[str, int]

    def targets(self) -> dict[str, Any]:
        """Issue 13's contract 1.1 targets and whether this score meets each (null: no evidence)."""

        def at_least(value: float | None, target: float) -> bool | None:
            return None if value is None else value >= target

        low = sorted(
            kind
            for kind, counts in self.kinds.items()
            if kind not in TARGET_EXEMPT_KINDS
            and (counts.recall is None or counts.recall < TARGET_KIND_RECALL)
        )
        return {
            "precision": {
                "target": TARGET_PRECISION,
                "met": at_least(self.overall.precision, TARGET_PRECISION),
            },
            "recall": {
                "target": TARGET_RECALL,
                "met": at_least(self.overall.recall, TARGET_RECALL),
            },
            "kind_recall": {
                "target": TARGET_KIND_RECALL,
                "exempt": sorted(TARGET_EXEMPT_KINDS),
                "kinds_below": low,
                "met": None if self.overall.status == NO_EVIDENCE else not low,
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "targets": self.targets(),
            "kinds": {
                kind: {**counts.to_dict(), "programs": self.programs_per_kind[kind]}
                for kind, counts in self.kinds.items()
            },
            "programs": {
                p.program.key: {
                    **p.counts.to_dict(),
                    "missing": [f"{a} -> {b}" for a, b in p.missing],
                    "extra": [f"{a} -> {b}" for a, b in p.extra],
                }
                for p in self.programs
            },
        }


def score(programs: Iterable[Program], found: Iterable[Edge]) -> Score:
    """Compare the found edges with the expectations, each program on its own callers."""
    found_set = set(found)
    results: list[ProgramScore] = []
    kinds: dict[str, Counts] = {}
    per_kind: dict[str, int] = {}
    overall = Counts()
    for program in sorted(programs, key=lambda p: (p.kind, p.name)):
        expected = program.edges()
        mine = {edge for edge in found_set if program.owns(edge[0])}
        missing = sorted(expected - mine)
        extra = sorted(mine - expected)
        counts = Counts(tp=len(expected & mine), fp=len(extra), fn=len(missing))
        results.append(ProgramScore(program, counts, missing, extra))
        kinds.setdefault(program.kind, Counts()).add(counts)
        per_kind[program.kind] = per_kind.get(program.kind, 0) + 1
        overall.add(counts)
    order = {kind: i for i, kind in enumerate(KINDS)}
    ordered = dict(sorted(kinds.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return Score(results, ordered, overall, per_kind)


def score_run(run_dir: Path, programs: list[Program] | None = None) -> Score:
    """Score a built run of the suite repo; ScoreError when the run did not build the suite."""
    programs = load_programs() if programs is None else programs
    edges = found_edges(run_dir)
    modules = built_modules(run_dir)
    absent = sorted(p.key for p in programs if p.prefix not in modules)
    if absent:
        raise ScoreError(
            f"{run_dir}: {len(absent)} suite programs have no MODULE node (first: {absent[0]})"
        )
    return score(programs, edges)


def format_table(result: Score) -> str:
    """The per-kind table of counts, precision and recall, then the overall row."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    rows = [("kind", "programs", "tp", "fp", "fn", "precision", "recall", "status")]
    for kind, counts in result.kinds.items():
        rows.append(
            (
                kind,
                str(result.programs_per_kind[kind]),
                str(counts.tp),
                str(counts.fp),
                str(counts.fn),
                pct(counts.precision),
                pct(counts.recall),
                counts.status,
            )
        )
    o = result.overall
    rows.append(
        (
            "overall",
            str(len(result.programs)),
            str(o.tp),
            str(o.fp),
            str(o.fn),
            pct(o.precision),
            pct(o.recall),
            o.status,
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "run_dir", type=Path, help="a run folder built from tests/callgraph_suite/repo"
    )
    parser.add_argument("--json", action="store_true", help="print the whole score as JSON")
    args = parser.parse_args(argv)
    try:
        result = score_run(args.run_dir)
    except ScoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, sort_keys=False))
    else:
        print(format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The call-graph suite of issue 13 (tests/callgraph_suite): its shape, and the score of a
build of it.

The suite repo is built once per backend by ``codeanatomy build`` as a subprocess, as a user
runs it; the rust build is scored, the score table is printed and written to
``reports/callgraph_score.json``. Asserted is only what holds on contract 1.0: the suite's
shape, well-formed expectations that name the programs' own definitions, the same edge set
from both backends, and precision: every found edge is expected except the false positives
that issue 13 documents for contract 1.0 (KNOWN_1_0_FALSE_POSITIVES), and precision is at
least 90% overall (92.5% measured at the suite's creation; issue 13 measured about 99% on
programs without these cases). The contract 1.1 targets (recall >= 95%, precision >= 99%) are
reported in the JSON, not asserted: they fail until the analysis of issue 13 exists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.callgraph_suite.score import (
    KINDS,
    REPO,
    SCORED,
    Edge,
    Program,
    defined_qualnames,
    format_table,
    found_edges,
    is_well_formed,
    load_programs,
    program_sources,
    score_run,
)

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "reports" / "callgraph_score.json"
MIN_PROGRAMS_PER_KIND = 7
MIN_PRECISION_TODAY = 0.90
_DEC = "cgsuite.decorators"
_LAM = "cgsuite.lambdas"
# Found edges that Python does not run, each a contract 1.0 behaviour named by issue 13.
# Contract 1.1 removes them; an edge outside this list is a new false positive.
KNOWN_1_0_FALSE_POSITIVES: dict[Edge, str] = {
    # "calling a decorated f runs the wrapper, not f; today the edge goes to f"
    **{
        (f"{_DEC}.{name}", f"{_DEC}.{name}.{func}"): "decorated name called: 1.0 targets the def"
        for name, func in [
            ("callable_class", "hello"),
            ("factory", "tick"),
            ("functools_wraps", "compute"),
            ("stacked", "text"),
            ("wrapper", "work"),
        ]
    },
    # "every lambda in a scope has the same qualname <lambda>": the right edge, 1.0's name
    **{
        (f"{_LAM}.{caller}", f"{_LAM}.{callee}"): "1.0 names lambdas <lambda>, 1.1 <lambda_N>"
        for caller, callee in [
            ("lambda_argument.<lambda>", "lambda_argument.greet"),
            ("lambda_attribute.Job.__init__.<locals>.<lambda>", "lambda_attribute.log"),
            ("lambda_body_call.<lambda>", "lambda_body_call.compute"),
            ("lambda_in_map.<lambda>", "lambda_in_map.double"),
            ("lambdas_in_dict.<lambda>", "lambdas_in_dict.add"),
            ("lambdas_in_dict.<lambda>", "lambdas_in_dict.negate"),
            ("returned_lambda.make.<locals>.<lambda>", "returned_lambda.helper"),
            ("sorted_key_lambda.main.<locals>.<lambda>", "sorted_key_lambda.weight"),
        ]
    },
    # super() and self dispatch resolved from the defining class, not the instance's MRO
    ("cgsuite.mro.diamond.Left.greet", "cgsuite.mro.diamond.Base.greet"): (
        "super() in Left for a Child instance runs Right.greet"
    ),
    ("cgsuite.mro.template_method.Report.render", "cgsuite.mro.template_method.Report.body"): (
        "self.body() on the only instances (SalesReport) runs SalesReport.body"
    ),
}
BUILD_TIMEOUT_S = 1800

pytestmark = pytest.mark.slow


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "codeanatomy"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "harness.cli"]


@pytest.fixture(scope="module")
def programs() -> list[Program]:
    return load_programs()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The suite repo built by each backend with ``codeanatomy build`` (one subprocess each)."""
    base = tmp_path_factory.mktemp("callgraph_suite")
    repo = base / "repo"
    shutil.copytree(REPO, repo, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEANATOMY_")}
    out: dict[str, Path] = {}
    for backend in ("rust", "legacy"):
        run = base / backend
        done = subprocess.run(
            [*_cli(), "build", str(repo), "--backend", backend, "--out", str(run), "--json"],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
        assert done.returncode == 0, (backend, done.returncode, done.stderr[-3000:])
        out[backend] = run
    return out


def test_every_program_has_an_expectation_and_every_expectation_a_program(
    programs: list[Program],
) -> None:
    sources = set(program_sources())
    expected = {p.key for p in programs}
    assert sorted(sources - expected) == []
    assert sorted(expected - sources) == []
    assert expected  # the comparison above is not vacuous


def test_the_suite_has_18_kinds_of_at_least_7_programs(programs: list[Program]) -> None:
    per_kind: dict[str, int] = {}
    for p in programs:
        per_kind[p.kind] = per_kind.get(p.kind, 0) + 1
    assert sorted(per_kind) == sorted(KINDS)
    assert len(KINDS) == 18
    small = {k: n for k, n in per_kind.items() if n < MIN_PROGRAMS_PER_KIND}
    assert small == {}
    assert sum(per_kind.values()) >= 18 * MIN_PROGRAMS_PER_KIND


def test_expectations_are_well_formed_and_name_the_programs_definitions(
    programs: list[Program],
) -> None:
    """Every qualname is well formed; every caller, and every callee inside the program, is a
    module, class, function or lambda that the program's source defines (read with ast)."""
    sources = program_sources()
    problems: list[str] = []
    edges = 0
    for p in programs:
        defined = defined_qualnames(sources[p.key])
        for caller, callee in sorted(p.edges()):
            edges += 1
            if not (is_well_formed(caller) and is_well_formed(callee)):
                problems.append(f"{p.key}: malformed {caller} -> {callee}")
            if caller not in defined:
                problems.append(f"{p.key}: caller {caller} is not defined by the program")
            if p.owns(callee) and callee not in defined:
                problems.append(f"{p.key}: callee {callee} is not defined by the program")
        if not p.edges():
            problems.append(f"{p.key}: no expected edge")
    assert problems == []
    assert edges > 0


def test_score_of_the_rust_build(programs: list[Program], runs: dict[str, Path]) -> None:
    result = score_run(runs["rust"], programs)
    report = result.to_dict()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print()
    print(format_table(result))
    print(json.dumps(report["targets"], indent=1))
    assert result.overall.status == SCORED
    assert result.overall.precision is not None
    extras = {edge for p in result.programs for edge in p.extra}
    assert sorted(extras - set(KNOWN_1_0_FALSE_POSITIVES)) == []
    assert result.overall.precision >= MIN_PRECISION_TODAY


def test_legacy_and_rust_find_the_same_edges(runs: dict[str, Path]) -> None:
    rust: set[Edge] = found_edges(runs["rust"])
    legacy: set[Edge] = found_edges(runs["legacy"])
    assert rust  # not two empty sets
    assert sorted(rust ^ legacy) == []


def test_the_known_false_positives_are_unexpected_edges_of_suite_programs(
    programs: list[Program],
) -> None:
    expected = {edge for p in programs for edge in p.edges()}
    for caller, callee in KNOWN_1_0_FALSE_POSITIVES:
        assert (caller, callee) not in expected
        assert any(p.owns(caller) for p in programs), caller
    assert KNOWN_1_0_FALSE_POSITIVES

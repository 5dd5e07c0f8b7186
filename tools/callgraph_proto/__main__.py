"""Run the prototype on the call-graph suite (or a folder) and score it: see README.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.callgraph_suite import score as suite
from tools.callgraph_proto.analysis import analyse


class NoEvidence(ValueError):
    """The folder holds no Python module: there is nothing to score."""


def run(repo: Path, expected: Path) -> tuple[suite.Score, int]:
    """Analyse ``repo`` and score its edges against ``expected`` with the suite's scorer."""
    if not repo.is_dir() or not any(p for p in repo.rglob("*.py") if "__pycache__" not in p.parts):
        raise NoEvidence(f"{repo}: no evidence (no Python module to analyse)")
    graph, rounds = analyse(repo)
    edges = {(caller, callee) for caller, callees in graph.items() for callee in callees}
    return suite.score(suite.load_programs(expected), edges), rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=suite.REPO)
    parser.add_argument("--expected", type=Path, default=suite.EXPECTED)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list missing and extra edges")
    args = parser.parse_args(argv)
    try:
        result, rounds = run(args.repo, args.expected)
    except (NoEvidence, suite.ScoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**result.to_dict(), "rounds": rounds}, indent=1))
        return 0
    print(suite.format_table(result))
    print(f"fixpoint rounds: {rounds}")
    if args.misses:
        for p in result.programs:
            for a, b in p.missing:
                print(f"MISS  {p.program.key}: {a} -> {b}")
            for a, b in p.extra:
                print(f"EXTRA {p.program.key}: {a} -> {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

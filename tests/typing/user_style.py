"""Code as a user of codeanatomy writes it, type-checked with ``mypy --strict`` against the
installed package (``tests/unit/test_typed_api.py``): every public name imports from
``harness``, and the types a user meets (Result, Finding, Coverage, the parity fixture) carry
their annotations. Never run: it is only checked.
"""

from __future__ import annotations

from pathlib import Path

from harness import (
    BackendUnavailable,
    Coverage,
    EngineFailure,
    ExtractOptions,
    Finding,
    GraphProductBuildRequest,
    GraphProductBuildResult,
    Parity,
    ParityOptions,
    ParityPolicy,
    Result,
    ShadowOptions,
    ShadowOutcome,
    SpecPolicy,
    UsageError,
    build_graph_product,
    load_policy,
)


def build_in_shadow(repo: Path, out: Path) -> GraphProductBuildResult:
    request = GraphProductBuildRequest(
        repo=repo,
        out=out,
        backend="shadow",
        extract=ExtractOptions(workers=2),
        policy=SpecPolicy(use_scip=False),
        shadow=ShadowOptions(candidate_timeout_s=600.0, seed=7),
    )
    try:
        return build_graph_product(request)
    except (EngineFailure, BackendUnavailable, UsageError) as exc:
        raise SystemExit(f"build failed: {exc}") from exc


def shadow_result(built: GraphProductBuildResult) -> Result | None:
    outcome: ShadowOutcome | None = built.shadow
    return None if outcome is None else outcome.result


def blocking(result: Result) -> list[str]:
    found: tuple[Finding, ...] = result.findings
    return [f"{f.severity} {f.code} {f.stage}/{f.table}: {f.message}" for f in found if f.blocks]


def compared(result: Result) -> int:
    coverage: Coverage = result.coverage
    rows: dict[str, tuple[int, int, int]] = coverage.stage_summary()
    return coverage.tables_compared + len(rows)


def test_the_engines_agree_on_our_code(parity: Parity) -> None:
    result: Result = parity.check("src", timeout_s=900.0)
    assert not result.blocks
    assert compared(result) > 0
    assert [o.result for o in parity.outcomes] == [result]


def test_with_a_policy(parity: Parity, tmp_path: Path) -> None:
    policy: ParityPolicy = load_policy(tmp_path / "parity.toml")
    options: ParityOptions = {"policy": policy, "seed": 1, "isolated": True}
    result = parity.run("src", **options)
    assert blocking(result) == [], "\n".join(blocking(result))

"""The parity Result: every planted divergence or emptiness gets the right severity, once.

A clean pair of runs (every evidence source healthy, every table compared with rows on both
sides) is the baseline: it passes with no finding. Each mutation plants one thing and checks the
finding code, its severity, and whether the Result blocks. The vacuous cases (nothing compared,
a failed source, equal emptiness) never pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from backends.contract.schemas import EVIDENCE_TABLES, EXTRACTORS, OUTPUT_TABLES
from harness.compare.manifests import ManifestDifference
from harness.compare.model import SchemaDifference
from harness.compare.policy import AllowEntry, ParityPolicy
from harness.compare.result import Result, judge, judge_allow_list
from harness.compare.runs import TableDrift, WarningDelta
from harness.run.manifest import RepoEntry
from tests.unit.parity_fakes import ROWS, TODAY
from tests.unit.parity_fakes import comparison as _comparison
from tests.unit.parity_fakes import diff as _diff
from tests.unit.parity_fakes import manifest as _manifest
from tests.unit.parity_fakes import replace_table as _replace_table
from tests.unit.parity_fakes import side as _side


def _judge(**kw: Any) -> Result:
    args: dict[str, Any] = {
        "subject": "repo",
        "comparison": _comparison(),
        "primary": _manifest(),
        "candidate": _manifest(),
        "policy": ParityPolicy(),
        "today": TODAY,
    } | kw
    return judge(**args)


def test_a_clean_pair_passes_with_full_coverage() -> None:
    result = _judge()
    assert result.findings == ()
    assert result.severity == "ok" and not result.blocks
    cov = result.coverage
    assert cov.tables_compared == len(EVIDENCE_TABLES) + len(OUTPUT_TABLES)
    assert cov.primary_rows == cov.candidate_rows == ROWS * cov.tables_compared
    assert {s.health for s in cov.sources} == {"ok"}
    assert len(cov.sources) == 2 * len(EXTRACTORS)


Mutation = Callable[[], dict[str, Any]]

# (name, what to judge, expected finding code, its severity, whether the Result blocks)
MUTATIONS: list[tuple[str, Mutation, str, str, bool]] = [
    (
        "schema differs",
        lambda: {
            "comparison": _replace_table(
                _comparison(),
                "cpg_nodes",
                severity="sev1",
                reasons=("schema differs",),
                schema_differences=(SchemaDifference(kind="missing_column", column="name"),),
            )
        },
        "SCHEMA_DIFFERS",
        "sev1",
        True,
    ),
    (
        "row count beyond tolerance",
        lambda: {
            "comparison": _replace_table(
                _comparison(), "cpg_edges", severity="sev1", reasons=("row count 10 != 3",)
            )
        },
        "TABLE_DIFFERS",
        "sev1",
        True,
    ),
    (
        "content differs",
        lambda: {
            "comparison": _replace_table(
                _comparison(),
                "cpg_props",
                severity="sev2",
                reasons=("rows changed 2",),
                diff=_diff(changed=2),
            )
        },
        "TABLE_DIFFERS",
        "sev2",
        True,
    ),
    (
        "duplicate keys",
        lambda: {
            "comparison": _replace_table(
                _comparison(), "cpg_nodes", severity="sev1", reasons=("dup",), diff=_diff(dup_c=1)
            )
        },
        "TABLE_DIFFERS",
        "sev1",
        True,
    ),
    (
        "output missing on the candidate",
        lambda: {
            "comparison": _replace_table(
                _comparison(),
                "diagnostics",
                severity="sev1",
                reasons=("table missing on the candidate side",),
                candidate=None,
            )
        },
        "TABLE_DIFFERS",
        "sev1",
        True,
    ),
    (
        "candidate failed",
        lambda: {
            "comparison": None,
            "candidate": None,
            "failures": [("candidate", "candidate rust failed: ENGINE_EXECUTE")],
        },
        "SIDE_FAILED",
        "sev1",
        True,
    ),
    (
        "primary failed",
        lambda: {"comparison": None, "primary": None, "failures": [("primary", "crashed")]},
        "SIDE_FAILED",
        "sev1",
        True,
    ),
    (
        "harness fault",
        lambda: {"comparison": None, "faults": ["compare: KeyError"]},
        "HARNESS_FAULT",
        "sev1",
        True,
    ),
    (
        "scip failed on the candidate only",
        lambda: {"candidate": _manifest({"SCIP_FAILED": 1})},
        "COVERAGE_SOURCE_FAILED",
        "sev2",
        True,
    ),
    (
        "scip unavailable on both sides (equal emptiness)",
        lambda: {
            "primary": _manifest({"SCIP_UNAVAILABLE": 1}),
            "candidate": _manifest({"SCIP_UNAVAILABLE": 1}),
            "comparison": _replace_table(
                _comparison(), "scip", primary=_side(0), candidate=_side(0)
            ),
        },
        "COVERAGE_SOURCE_FAILED",
        "sev2",
        True,
    ),
    (
        "an evidence table missing from a run",
        lambda: {"primary": _manifest(drop="symtable")},
        "COVERAGE_SOURCE_FAILED",
        "sev2",
        True,
    ),
    (
        "scip empty on both sides with Python files present",
        lambda: {
            "comparison": _replace_table(
                _comparison(), "scip", primary=_side(0), candidate=_side(0)
            )
        },
        "COVERAGE_EMPTY",
        "sev2",
        True,
    ),
    (
        "cpg_edges empty on both sides",
        lambda: {
            "comparison": _replace_table(
                _comparison(), "cpg_edges", primary=_side(0), candidate=_side(0)
            )
        },
        "COVERAGE_EMPTY",
        "sev2",
        True,
    ),
    (
        "nothing compared",
        lambda: {"comparison": _comparison(tables=())},
        "COVERAGE_NOTHING_COMPARED",
        "sev1",
        True,
    ),
    (
        "warning counts differ",
        lambda: {
            "comparison": _comparison(
                warnings=(WarningDelta(code="RESOLVE_AMBIGUOUS", primary=1, candidate=2),)
            )
        },
        "WARNINGS_DIFFER",
        "sev3",
        False,
    ),
    (
        "run.json differs",
        lambda: {
            "comparison": _comparison(
                manifest=(ManifestDifference(path="root['spec_hash']", change="values_changed"),)
            )
        },
        "MANIFEST_DIFFERS",
        "sev3",
        False,
    ),
    (
        "a table drifted after the pin",
        lambda: {
            "comparison": _comparison(
                drift=(
                    TableDrift(
                        side="candidate",
                        stage="outputs",
                        table="cpg_nodes",
                        pinned_version=0,
                        latest_version=1,
                    ),
                )
            )
        },
        "TABLE_DRIFT",
        "sev3",
        False,
    ),
    (
        "files lost to a crashed worker",
        lambda: {"primary": _manifest({"EXTRACT_WORKER_CRASHED": 2})},
        "COVERAGE_FILES_LOST",
        "sev3",
        False,
    ),
]


@pytest.mark.parametrize(
    ("kind", "mutation", "code", "severity", "blocks"),
    MUTATIONS,
    ids=[m[0] for m in MUTATIONS],
)
def test_each_planted_divergence_gets_its_severity(
    kind: str, mutation: Mutation, code: str, severity: str, blocks: bool
) -> None:
    result = _judge(**mutation())
    codes = {(f.code, f.severity) for f in result.findings}
    assert (code, severity) in codes, (kind, codes)
    assert result.blocks is blocks, kind
    assert result.severity == severity


def test_there_are_at_least_fifteen_kinds_of_planted_divergence() -> None:
    assert len(MUTATIONS) >= 15


def test_a_volatile_table_is_noise_not_a_mismatch() -> None:
    changed = _replace_table(_comparison(), "cpg_props", severity="sev2", reasons=("changed",))
    noise = _replace_table(_comparison(), "cpg_props", severity="sev2", reasons=("changed",))
    result = _judge(comparison=changed, noise=noise)
    (finding,) = result.findings
    assert finding.noise and not finding.blocks
    assert result.severity == "sev3" and not result.blocks
    assert result.counts() == {"sev1": 0, "sev2": 0, "sev3": 1}


def _entry(**kw: Any) -> AllowEntry:
    base = {"table": "cpg_props", "reason": "known", "owner": "team", "expires": TODAY}
    return AllowEntry(**(base | kw))


def test_an_allowed_difference_does_not_block_and_names_its_entry() -> None:
    changed = _replace_table(_comparison(), "cpg_props", severity="sev2", reasons=("changed",))
    policy = ParityPolicy(allow=(_entry(stage="outputs"),))
    result = _judge(comparison=changed, policy=policy)
    (finding,) = result.findings
    assert finding.allowed_by is not None and "known (team, until 2026-12-07)" in finding.allowed_by
    assert not result.blocks and result.severity == "ok"
    assert judge_allow_list([result], policy, TODAY) == ()


def test_an_expired_entry_allows_nothing_and_is_itself_sev1() -> None:
    changed = _replace_table(_comparison(), "cpg_props", severity="sev2", reasons=("changed",))
    policy = ParityPolicy(allow=(_entry(expires=TODAY - dt.timedelta(days=1)),))
    result = _judge(comparison=changed, policy=policy)
    assert result.blocks
    (expired,) = judge_allow_list([result], policy, TODAY)
    assert (expired.code, expired.severity) == ("ALLOW_EXPIRED", "sev1")


def test_an_entry_that_matches_nothing_is_stale() -> None:
    policy = ParityPolicy(allow=(_entry(table="cpg_nodes"),))
    result = _judge(policy=policy)
    (stale,) = judge_allow_list([result], policy, TODAY)
    assert (stale.code, stale.severity) == ("ALLOW_STALE", "sev3")


def test_a_failed_source_can_be_allowed_with_a_reason_by_code() -> None:
    policy = ParityPolicy(
        allow=(_entry(table="scip", stage="evidence", code="COVERAGE_SOURCE_FAILED"),)
    )
    result = _judge(candidate=_manifest({"SCIP_FAILED": 1}), policy=policy)
    assert not result.blocks
    # The entry names a code: it does not allow another finding on the same table.
    emptied = _replace_table(_comparison(), "scip", severity="sev2", reasons=("changed",))
    assert _judge(comparison=emptied, policy=policy).blocks


def test_a_repo_without_a_parsed_python_file_expects_no_rows() -> None:
    empty = _replace_table(_comparison(), "scip", primary=_side(0), candidate=_side(0))
    manifest = msgspec.structs.replace(
        _manifest(), repo=RepoEntry(path="/r", files=1, python_files_ok=0, fingerprint="r")
    )
    result = _judge(comparison=empty, primary=manifest, candidate=manifest)
    assert not any(f.code == "COVERAGE_EMPTY" for f in result.findings)


def test_run_json_paths_that_differ_between_primary_runs_are_noise() -> None:
    differs = (ManifestDifference(path="root['view_rows']['x']", change="values_changed"),)
    result = _judge(comparison=_comparison(manifest=differs), noise=_comparison(manifest=differs))
    assert result.findings == () and result.severity == "ok"
    assert _judge(comparison=_comparison(manifest=differs)).severity == "sev3"

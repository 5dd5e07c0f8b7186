"""The gateway maintains a run folder only after a build that moved some table's version
(issue 14.5): an unchanged rebuild commits nothing and runs no maintenance (no Delta log entry,
no checkpoint), a rebuild after an edit is maintained, a fresh folder is not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from backends.contract.schemas import EXTRACTORS
from backends.contract.spec import SpecPolicy
from backends.extract.runner import ExtractOptions
from harness.gateway import (
    GraphProductBuildRequest,
    GraphProductBuildResult,
    build_graph_product,
    versions_moved,
)
from harness.run.manifest import RunManifest

NO_SCIP = tuple(e for e in EXTRACTORS if e != "scip")


def _build(repo: Path, out: Path) -> GraphProductBuildResult:
    return build_graph_product(
        GraphProductBuildRequest(
            repo=repo,
            out=out,
            backend="rust",
            extract=ExtractOptions(workers=1, extractors=NO_SCIP),
            policy=SpecPolicy(use_scip=False),
        )
    )


def _log_files(out: Path) -> set[str]:
    """Every entry of every Delta log below ``out`` (commits, checkpoints, ``_last_checkpoint``)."""
    return {str(p.relative_to(out)) for p in out.rglob("_delta_log/*")}


@dataclass(frozen=True)
class Builds:
    fresh: GraphProductBuildResult
    unchanged: GraphProductBuildResult
    unchanged_logs: tuple[set[str], set[str]]
    edited: GraphProductBuildResult


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("gateway_maintain")
    repo = root / "repo"
    repo.mkdir()
    (repo / "shapes.py").write_text("def area(w, h):\n    return w * h\n", encoding="utf-8")
    (repo / "use.py").write_text(
        "from shapes import area\n\n\ndef square(s):\n    return area(s, s)\n", encoding="utf-8"
    )
    out = root / "run"
    fresh = _build(repo, out)
    before = _log_files(out)
    unchanged = _build(repo, out)
    after = _log_files(out)
    (repo / "use.py").write_text(
        "from shapes import area\n\n\ndef square(s):\n    return area(s, s)\n\n\n"
        "def cube(s):\n    return square(s) * s\n",
        encoding="utf-8",
    )
    edited = _build(repo, out)
    return Builds(fresh=fresh, unchanged=unchanged, unchanged_logs=(before, after), edited=edited)


def _tables(manifest: RunManifest) -> list[tuple[str, int | None, int]]:
    return [
        (t.table, t.version_before if isinstance(t.version_before, int) else None, t.delta_version)
        for t in (*manifest.inputs, *manifest.outputs)
    ]


def test_a_fresh_folder_is_not_maintained(builds: Builds) -> None:
    assert all(before is None for _, before, _ in _tables(builds.fresh.manifest))
    assert not versions_moved([builds.fresh.manifest])
    assert builds.fresh.maintenance is None and builds.fresh.maintenance_error is None


def test_an_unchanged_rebuild_runs_no_maintenance(builds: Builds) -> None:
    result = builds.unchanged
    tables = _tables(result.manifest)
    assert tables and all(before == after for _, before, after in tables), tables
    assert not versions_moved([result.manifest])
    assert result.maintenance is None and result.maintenance_error is None
    before, after = builds.unchanged_logs
    assert before and after == before, sorted(after ^ before)


def test_a_rebuild_after_an_edit_is_maintained(builds: Builds) -> None:
    result = builds.edited
    moved = [t for t in _tables(result.manifest) if t[1] is not None and t[1] != t[2]]
    assert moved, "the edit gave some table a new version"
    assert versions_moved([result.manifest])
    assert result.maintenance_error is None
    assert result.maintenance is not None
    maintained = {t.path for t in result.maintenance.tables}
    assert {"evidence/repo_scan", "outputs/cpg_nodes"} <= maintained, sorted(maintained)


def test_versions_moved_reads_every_manifest(builds: Builds) -> None:
    still = builds.unchanged.manifest
    assert not versions_moved([still, still])
    assert not versions_moved([])
    first = still.outputs[0]
    moved = msgspec.structs.replace(
        still,
        outputs=(
            msgspec.structs.replace(first, delta_version=first.delta_version + 1),
            *still.outputs[1:],
        ),
    )
    assert versions_moved([still, moved])
    # Unrecorded (a manifest from before version_before) or null (a table created by this
    # build) is not a move of a table an earlier build wrote.
    for before in (msgspec.UNSET, None):
        entry = msgspec.structs.replace(first, version_before=before, delta_version=3)
        assert not versions_moved([msgspec.structs.replace(still, outputs=(entry,), inputs=())])

"""``run.json`` records each table's Delta version before the build (``version_before``) beside
the version after (``delta_version``): null in a fresh folder, the previous version in a folder
that already held a build, equal to the version after where the build changed nothing.

Builds go through the real :func:`harness.run.build.run_build` / :func:`execute` and
:func:`record` with a small engine defined here (named as a plugin ``module:ADAPTER``): its
Stage 0 writes the ten evidence tables, its semantic stage one node per file, both to real
Delta tables, and like an incremental build it commits nothing to a table whose rows are the
same.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from backends.contract.fingerprint import schema_hash
from backends.contract.result import OutputInfo, RunResult
from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.spec import SemanticExecutionSpec
from backends.extract.runner import ExtractOptions
from backends.extract.summary import ExtractSummary
from harness.adapters.common import workload_spec
from harness.compare.manifests import manifest_differences
from harness.run.build import (
    SharedEvidence,
    execute,
    record,
    run_build,
    versions_before,
)
from harness.run.manifest import read_manifest, table_key
from harness.run.request import BuildRequest

BACKEND = f"{__name__}:ADAPTER"


def _commit(uri: Path, table: pa.Table) -> int:
    """Overwrite ``uri`` with ``table`` unless it holds those rows already; its version."""
    if (uri / "_delta_log").is_dir():
        current = DeltaTable(str(uri))
        if pa.table(current.to_pyarrow_table()).equals(table):
            return int(current.version())
    write_deltalake(
        str(uri), table, mode="overwrite", configuration={"delta.enableChangeDataFeed": "true"}
    )
    return int(DeltaTable(str(uri)).version())


class _Engine:
    """The engine of these tests (see the module docstring)."""

    NAME = "versions-test"

    def extract(self, repo: Path, out: Path, options: ExtractOptions) -> ExtractSummary:
        files = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.py"))
        for name, contract in EVIDENCE_TABLES.items():
            rows = [] if name != "repo_scan" else [_scanned(repo, f) for f in files]
            _commit(out / "evidence" / name, pa.Table.from_pylist(rows, schema=contract.schema))
        return ExtractSummary(
            repo=str(repo),
            out=str(out),
            files=len(files),
            python_files_ok=len(files),
            extractors={},
            warnings_by_code={},
            worker_crashes=0,
            seconds={},
            tables={},
        )

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        scan = next(b for b in spec.inputs if b.name == "repo_scan")
        files = DeltaTable(scan.uri, version=scan.delta_version).to_pyarrow_table()
        outputs = []
        for name, contract in OUTPUT_TABLES.items():
            rows = []
            if name == "cpg_nodes":
                rows = [
                    {"node_id": f"file:{p}", "kind": "FILE", "path": p, "evidence_source": "x"}
                    for p in files.column("path").to_pylist()
                ]
            table = pa.Table.from_pylist(rows, schema=contract.schema)
            uri = Path(str(outputs_dir)) / name
            outputs.append(
                OutputInfo(
                    table=name,
                    uri=str(uri),
                    delta_version=_commit(uri, table),
                    rows=table.num_rows,
                    schema_hash=schema_hash(table.schema),
                )
            )
        return RunResult(
            backend=self.NAME, engine_version="1", spec_hash="h", outputs=tuple(outputs)
        )


def _scanned(repo: Path, path: str) -> dict[str, Any]:
    return {
        "path": path,
        "status": "ok",
        "file_sha256": str(hash((repo / path).read_text())),
        "is_python": True,
        "is_symlink": False,
        "is_package": False,
        "has_bom": False,
    }


ADAPTER = _Engine()


def _repo(tmp_path: Path, *files: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    for name in files:
        (repo / name).write_text(f"# {name}\n")
    return repo


def _versions(run: Path) -> dict[tuple[str, str], tuple[Any, int]]:
    """(section, table) -> (version_before as written in run.json, delta_version)."""
    data = json.loads((run / "run.json").read_text())
    return {
        (section, entry["table"]): (entry.get("version_before", "absent"), entry["delta_version"])
        for section in ("inputs", "outputs")
        for entry in data[section]
    }


def test_a_fresh_folder_records_null_before_every_table(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_build(BACKEND, BuildRequest(repo=_repo(tmp_path, "a.py"), out=run))
    versions = _versions(run)
    assert len(versions) == len(EVIDENCE_TABLES) + len(OUTPUT_TABLES)
    assert set(versions.values()) == {(None, 0)}


def test_a_second_build_records_the_versions_it_started_from(tmp_path: Path) -> None:
    run = tmp_path / "run"
    repo = _repo(tmp_path, "a.py")
    run_build(BACKEND, BuildRequest(repo=repo, out=run))
    _repo(tmp_path, "b.py")
    run_build(BACKEND, BuildRequest(repo=repo, out=run))
    versions = _versions(run)
    # Changed: the scan and the nodes got a new version; unchanged: no new version.
    assert versions[("inputs", "repo_scan")] == (0, 1)
    assert versions[("outputs", "cpg_nodes")] == (0, 1)
    assert versions[("inputs", "ast")] == (0, 0)
    assert versions[("outputs", "cpg_edges")] == (0, 0)
    manifest = read_manifest(run / "run.json")
    assert {e.version_before for e in (*manifest.inputs, *manifest.outputs)} == {0}


def test_a_build_that_changed_nothing_records_equal_versions(tmp_path: Path) -> None:
    run = tmp_path / "run"
    repo = _repo(tmp_path, "a.py")
    run_build(BACKEND, BuildRequest(repo=repo, out=run))
    run_build(BACKEND, BuildRequest(repo=repo, out=run))
    assert set(_versions(run).values()) == {(0, 0)}


def test_version_before_never_makes_two_runs_differ(tmp_path: Path) -> None:
    """An updated run and a fresh run of the same repository: same content, same manifest."""
    repo = _repo(tmp_path, "a.py")
    run_build(BACKEND, BuildRequest(repo=repo, out=tmp_path / "updated"))
    _repo(tmp_path, "b.py")
    updated = run_build(BACKEND, BuildRequest(repo=repo, out=tmp_path / "updated")).manifest
    fresh = run_build(BACKEND, BuildRequest(repo=repo, out=tmp_path / "fresh")).manifest
    found = {d.path for d in manifest_differences(updated, fresh)}
    assert not any("version_before" in path for path in found)
    # The Delta versions themselves do differ (a rebuild is version 1, a fresh build 0).
    assert "root['outputs']['cpg_nodes']['delta_version']" in found


def test_a_shadow_side_takes_the_evidence_versions_from_the_shared_stage_0(
    tmp_path: Path,
) -> None:
    """Both sides compute on evidence extracted once, before them: its versions before are
    those of the shared extraction; without them (a plan that does not carry them), those
    the side's previous run.json recorded."""
    root = tmp_path / "shadow"
    repo = _repo(tmp_path, "a.py")
    shared_request = BuildRequest(repo=repo, out=root)

    def side(name: str, known: bool) -> dict[tuple[str, str], tuple[Any, int]]:
        before = versions_before(root / "evidence", EVIDENCE_TABLES)
        summary = ADAPTER.extract(repo, root, ExtractOptions())

        shared = SharedEvidence(
            summary=summary,
            spec=workload_spec(root / "evidence", shared_request.policy),
            extract_s=0.0,
            versions_before=before if known else None,
        )
        request = BuildRequest(repo=repo, out=root / name, evidence=root / "evidence")
        record(request, execute(BACKEND, request, shared), dt.datetime.now(dt.UTC))
        return _versions(root / name)

    assert set(side("known", known=True).values()) == {(None, 0)}
    # The side never built here: as in a fresh folder (the evidence was there, shared).
    assert set(side("plan", known=False).values()) == {(None, 0)}
    _repo(tmp_path, "b.py")
    assert side("known", known=True)[("inputs", "repo_scan")] == (0, 1)
    assert side("plan", known=False)[("inputs", "repo_scan")] == (0, 1)


def test_versions_before_of_a_folder_without_tables_is_null(tmp_path: Path) -> None:
    (tmp_path / "ast" / "_delta_log").mkdir(parents=True)  # a table never committed
    found = versions_before(tmp_path, EVIDENCE_TABLES)
    assert found == {table_key(tmp_path / name): None for name in EVIDENCE_TABLES}


def test_a_manifest_written_before_version_before_still_reads(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_build(BACKEND, BuildRequest(repo=_repo(tmp_path, "a.py"), out=run))
    data = json.loads((run / "run.json").read_text())
    for section in ("inputs", "outputs"):
        for entry in data[section]:
            del entry["version_before"]
    (run / "run.json").write_text(json.dumps(data))
    manifest = read_manifest(run / "run.json")
    assert {e.version_before for e in manifest.outputs} == {msgspec.UNSET}
    assert b"version_before" not in msgspec.json.encode(manifest)

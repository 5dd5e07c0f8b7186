"""Manifest parity with deepdiff: volatile paths never differ, real differences are reported by
path, inputs/outputs are matched by table name, and the noise baseline drops volatile paths."""

from __future__ import annotations

from typing import Any

import msgspec

from harness.compare.manifests import manifest_differences
from harness.run.manifest import RunManifest, TableEntry


def _manifest(backend: str, **changes: Any) -> RunManifest:
    def table(name: str, fp: str) -> dict[str, Any]:
        return {
            "table": name,
            "uri": f"/runs/{backend}/outputs/{name}",
            "delta_version": 0,
            "rows": 3,
            "schema_hash": "s-" + name,
            "fingerprint": fp,
        }

    data: dict[str, Any] = {
        "manifest_version": 1,
        "backend": backend,
        "engine_version": f"{backend}-1",
        "versions": {"contract": "cpg/1"},
        "spec_hash": "h",
        "repo": {"path": "/repo", "files": 2, "python_files_ok": 2, "fingerprint": "r"},
        "inputs": [table("ast", "a1")],
        "outputs": [table("cpg_nodes", "n1"), table("cpg_edges", "e1")],
        "warnings_by_code": {"EXTRACT_SYNTAX_ERROR": 1},
        "warnings": [],
        "timings": {"total_s": 1.0 if backend == "legacy" else 0.2},
        "started_at": f"2026-01-01T00:00:0{len(backend)}Z",
        "finished_at": "2026-01-01T00:01:00Z",
        "served_by": {"backend": backend, "source": "shadow", "reason": "x"},
        "metrics": [{"view": "v", "operator": backend, "rows": 1, "elapsed_ms": 1.0}],
        "view_rows": {"syntax": 10},
    }
    data.update(changes)
    return msgspec.convert(data, RunManifest)


def test_only_volatile_paths_differ_between_backends() -> None:
    assert manifest_differences(_manifest("legacy"), _manifest("rust")) == ()


def test_tables_are_matched_by_name_not_position() -> None:
    a = _manifest("legacy")
    b = msgspec.structs.replace(_manifest("rust"), outputs=_manifest("rust").outputs[::-1])
    assert manifest_differences(a, b) == ()


def test_real_differences_are_reported_by_path() -> None:
    a = _manifest("legacy")
    b = _manifest("rust", spec_hash="other", view_rows={"syntax": 9}, warnings_by_code={})
    outputs = list(b.outputs)
    outputs[1] = msgspec.structs.replace(outputs[1], fingerprint="e2")
    b = msgspec.structs.replace(b, outputs=tuple(outputs))
    found = {(d.path, d.primary, d.candidate) for d in manifest_differences(a, b)}
    assert found == {
        ("root['spec_hash']", '"h"', '"other"'),
        ("root['view_rows']['syntax']", "10", "9"),
        ("root['outputs']['cpg_edges']['fingerprint']", '"e1"', '"e2"'),
        ("root['warnings_by_code']['EXTRACT_SYNTAX_ERROR']", "1", None),
    }


def _before(manifest: RunManifest, version: int | None) -> RunManifest:
    def entries(section: tuple[TableEntry, ...]) -> tuple[TableEntry, ...]:
        return tuple(msgspec.structs.replace(e, version_before=version) for e in section)

    return msgspec.structs.replace(
        manifest, inputs=entries(manifest.inputs), outputs=entries(manifest.outputs)
    )


def test_version_before_never_differs() -> None:
    """A run built into a folder that held one (version_before 0), a fresh run (null) and a
    run.json written before the field existed (absent) record the same run."""
    updated, fresh = _before(_manifest("legacy"), 0), _before(_manifest("rust"), None)
    old = _manifest("rust")
    assert manifest_differences(updated, fresh) == ()
    assert manifest_differences(updated, old) == ()
    assert manifest_differences(old, fresh) == ()


def test_the_version_after_still_differs_beside_version_before() -> None:
    a = _before(_manifest("legacy"), 0)
    b = _before(_manifest("rust"), 0)
    outputs = tuple(msgspec.structs.replace(e, delta_version=1) for e in b.outputs)
    b = msgspec.structs.replace(b, outputs=outputs)
    found = {d.path for d in manifest_differences(a, b)}
    assert found == {
        "root['outputs']['cpg_nodes']['delta_version']",
        "root['outputs']['cpg_edges']['delta_version']",
    }

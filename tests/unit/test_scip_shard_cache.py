"""The per-file scip cache: import closures, keys, and the scip step serving hits and indexing
only the misses (fake indexer; the real one is in tests/e2e/test_scip_cache.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pyarrow as pa
import pytest

from backends.extract.cache import ResultCache
from backends.extract.scip import scip_pb2, stage
from backends.extract.scip.closure import (
    ImportGraph,
    ImportRef,
    candidates,
    file_keys,
    import_refs,
)

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")


# ------------------------------------------------------------------ what an import can name


@pytest.mark.parametrize(
    ("importer", "ref", "expected"),
    [
        (
            "m.py",
            ImportRef("a.b", None, 0),
            {"a/__init__.py", "a.py", "a/b.py", "a/b/__init__.pyi"},
        ),
        ("m.py", ImportRef("a", "b", 0), {"a/__init__.py", "a/b.py", "a/b/__init__.py"}),
        ("p/q/m.py", ImportRef(None, "x", 1), {"p/q/__init__.py", "p/q/x.py"}),
        ("p/q/m.py", ImportRef("r", "x", 2), {"p/r.py", "p/r/x.py", "p/r/__init__.py"}),
        # Absolute imports are also tried from the importer's folder and each one above it.
        ("src/pkg/m.py", ImportRef("pkg.util", None, 0), {"src/pkg/util.py", "pkg/util.py"}),
        ("m.py", ImportRef("a", None, 0), {"a-stubs/__init__.pyi"}),
    ],
)
def test_candidates_include(importer: str, ref: ImportRef, expected: set[str]) -> None:
    paths, _ = candidates(importer, ref)
    assert expected <= paths


@pytest.mark.parametrize(
    ("importer", "ref"),
    [("m.py", ImportRef("a", None, 0)), ("p/m.py", ImportRef(None, "x", 3))],
)
def test_candidates_never_leave_the_import_root(importer: str, ref: ImportRef) -> None:
    paths, folders = candidates(importer, ref)
    assert not any(p.startswith("..") or p.startswith("/") for p in paths | folders)


def test_a_star_import_names_the_package_folder() -> None:
    assert candidates("m.py", ImportRef("pkg", "*", 0))[1] >= {"pkg"}


def test_import_refs_reads_the_import_rows_of_syntax_tables() -> None:
    table = pa.table(
        {
            "path": ["m.py", "m.py", "m.py"],
            "kind": ["import", "import", "call"],
            "expr": ["os.path", None, "f"],
            "name": [None, "x", None],
            "detail": [json.dumps({"level": 0}), json.dumps({"level": 1}), None],
        }
    )
    assert import_refs([table]) == {
        "m.py": {ImportRef("os.path", None, 0), ImportRef(None, "x", 1)}
    }


# ------------------------------------------------------------------ closures and keys


FILES = [
    "app.py",
    "mid.py",
    "leaf.py",
    "other.py",
    "cyc_a.py",
    "cyc_b.py",
    "pkg/__init__.py",
    "pkg/x.py",
]
REFS = {
    "app.py": {ImportRef("mid", None, 0), ImportRef("pkg", "x", 0)},
    "mid.py": {ImportRef("leaf", "f", 0)},
    "cyc_a.py": {ImportRef("cyc_b", None, 0)},
    "cyc_b.py": {ImportRef("cyc_a", None, 0), ImportRef("leaf", None, 0)},
}


def _keys(
    files: list[str],
    refs: dict[str, set[ImportRef]],
    shas: dict[str, str],
    known: list[str] | None = None,
) -> dict[str, str | None]:
    graph = ImportGraph.build(files, refs, files if known is None else known)
    return file_keys(graph, shas, indexer="scip-python@0", project="demo")


def _shas(files: list[str], **changed: str) -> dict[str, str]:
    return {f: changed.get(f.replace("/", "_").removesuffix(".py"), "v1") for f in files}


def test_the_graph_follows_imports_to_scanned_files() -> None:
    graph = ImportGraph.build(FILES, REFS, FILES)
    assert graph.closure("app.py") == {"app.py", "mid.py", "leaf.py", "pkg/__init__.py", "pkg/x.py"}
    assert graph.closure("cyc_a.py") == {"cyc_a.py", "cyc_b.py", "leaf.py"}


def test_a_changed_leaf_changes_the_keys_of_its_importers_only() -> None:
    before = _keys(FILES, REFS, _shas(FILES))
    after = _keys(FILES, REFS, _shas(FILES, leaf="v2"))
    changed = {f for f in FILES if before[f] != after[f]}
    assert changed == {"leaf.py", "mid.py", "app.py", "cyc_a.py", "cyc_b.py"}


def test_keys_do_not_depend_on_an_unrelated_change() -> None:
    before = _keys(FILES, REFS, _shas(FILES))
    after = _keys(FILES, REFS, _shas(FILES, other="v2"))
    assert {f for f in FILES if before[f] != after[f]} == {"other.py"}


def test_a_file_an_import_could_name_changes_the_importer_key_when_added() -> None:
    refs = {"app.py": {ImportRef("helpers", None, 0)}}
    files = ["app.py", "x.py"]
    before = _keys(files, refs, _shas(files))
    after = _keys([*files, "helpers.py"], refs, _shas([*files, "helpers.py"]))
    assert before["app.py"] != after["app.py"]
    assert before["x.py"] == after["x.py"]


def test_files_in_one_cycle_change_together() -> None:
    before = _keys(FILES, REFS, _shas(FILES))
    after = _keys(FILES, REFS, _shas(FILES, cyc_b="v2"))
    assert {f for f in FILES if before[f] != after[f]} == {"cyc_a.py", "cyc_b.py"}


def test_unknown_imports_leave_every_file_that_reaches_them_without_a_key() -> None:
    keys = _keys(FILES, REFS, _shas(FILES), known=[f for f in FILES if f != "leaf.py"])
    assert {f for f, k in keys.items() if k is None} == {
        "leaf.py",
        "mid.py",
        "app.py",
        "cyc_a.py",
        "cyc_b.py",
    }


def test_a_builtins_stub_is_a_dependency_of_every_file() -> None:
    files = ["a.py", "b.py", "__builtins__.pyi"]
    before = _keys(files, {}, _shas(files))
    after = _keys(files, {}, {**_shas(files), "__builtins__.pyi": "v2"})
    assert all(before[f] != after[f] for f in files)


def test_keys_name_the_indexer_and_the_project() -> None:
    graph = ImportGraph.build(["a.py"], {}, ["a.py"])
    one = file_keys(graph, {"a.py": "s"}, indexer="i1", project="p")["a.py"]
    assert one != file_keys(graph, {"a.py": "s"}, indexer="i2", project="p")["a.py"]
    assert one != file_keys(graph, {"a.py": "s"}, indexer="i1", project="q")["a.py"]


# ------------------------------------------------------------------ the scip step


REPO = {
    "app.py": "import mid\n",
    "mid.py": "from leaf import f\n",
    "leaf.py": "def f():\n    return 1\n",
    "other.py": "x = 1\n",
    "other2.py": "import other\n",
}

# Writes a prebuilt index (one document per file) and appends the include list it got.
_RECORDING = """
cwd=""; out=""
while [ $# -gt 0 ]; do
  [ "$1" = --cwd ] && cwd="$2"; [ "$1" = --output ] && out="$2"; shift
done
printf 'RUN ' >> {log}; /bin/cat "$cwd/scip-pyrightconfig.json" >> {log}; echo >> {log}
/bin/cp {prebuilt} "$out"
"""


def _fake_indexer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    index = scip_pb2.Index()
    for path in REPO:
        doc = index.documents.add(relative_path=path)
        doc.occurrences.add(
            range=[0, 0, 1], symbol=f"scip-python python demo 0 `{path}`/__init__:", symbol_roles=1
        )
    prebuilt = tmp_path / "prebuilt.scip"
    prebuilt.write_bytes(index.SerializeToString())
    log = tmp_path / "configs.jsonl"
    fake = tmp_path / "fake-scip-python"
    fake.write_text("#!/bin/sh\n" + _RECORDING.format(log=log, prebuilt=prebuilt), encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CODEANATOMY_SCIP_BIN", str(fake))
    return log


def _configs(log: Path) -> list[dict[str, object]]:
    """The config of every indexer run, in order."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line.removeprefix("RUN ")) for line in lines if line]


def _step(
    tmp_path: Path, texts: dict[str, str], cache: Path | None
) -> tuple[list[dict[str, object]] | None, stage.Stats]:
    settings = stage.Settings(
        repo_root=tmp_path / "demo",
        work_dir=tmp_path / "work",
        cache=ResultCache(cache),
        shards=1,
        timeout_s=30,
        max_old_space_mb=512,
    )
    shas = {p: hashlib.sha256(t.encode()).hexdigest() for p, t in texts.items()}
    syntax = stage.syntax_of((), {}, {})  # no syntax extractor: imports read with ast
    job = stage.start(texts, shas, syntax, settings)
    table, _, stats = job.join(syntax)
    return (None if table is None else table.to_pylist()), stats


@needs_node
def test_a_warm_step_indexes_nothing_and_gives_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_indexer(tmp_path, monkeypatch)
    cold, cold_stats = _step(tmp_path, REPO, tmp_path / "cache")
    warm, warm_stats = _step(tmp_path, REPO, tmp_path / "cache")
    assert warm == cold
    assert (cold_stats.cached, cold_stats.indexed) == (0, 5)
    assert (warm_stats.cached, warm_stats.indexed, warm_stats.shards) == (5, 0, 0)
    assert len(_configs(log)) == 1  # the warm step never started the indexer
    assert "include" not in _configs(log)[0]  # the cold one indexed the whole repository


@needs_node
def test_a_changed_leaf_reindexes_it_and_its_importers_as_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_indexer(tmp_path, monkeypatch)
    _step(tmp_path, REPO, tmp_path / "cache")
    changed = {**REPO, "leaf.py": "def f():\n    return 2\n"}
    _, stats = _step(tmp_path, changed, tmp_path / "cache")
    assert (stats.cached, stats.indexed, stats.late) == (2, 3, 0)
    assert _configs(log)[-1]["include"] == ["app.py", "leaf.py", "mid.py"]


@needs_node
def test_without_a_cache_every_step_indexes_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_indexer(tmp_path, monkeypatch)
    _, first = _step(tmp_path, REPO, None)
    _, second = _step(tmp_path, REPO, None)
    assert (first.indexed, second.indexed, second.cached) == (5, 5, 0)


@needs_node
@pytest.mark.parametrize(
    "texts", [{}, {"../escape.py": "x = 1\n"}], ids=["no files", "no safe file"]
)
def test_nothing_to_index_gives_no_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, texts: dict[str, str]
) -> None:
    log = _fake_indexer(tmp_path, monkeypatch)
    rows, stats = _step(tmp_path, texts, tmp_path / "cache")
    assert rows == [] and (stats.files, stats.cached) == (0, 0)
    assert _configs(log) == []


def test_an_unavailable_indexer_serves_nothing_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEANATOMY_SCIP_BIN", str(tmp_path / "missing"))
    settings = stage.Settings(
        repo_root=tmp_path,
        work_dir=tmp_path / "work",
        cache=ResultCache(tmp_path / "cache"),
        shards=1,
        timeout_s=30,
        max_old_space_mb=512,
    )
    syntax = stage.syntax_of((), {}, {})
    job = stage.start(REPO, dict.fromkeys(REPO, "s"), syntax, settings)
    table, warnings, _ = job.join(syntax)
    assert table is not None and table.num_rows == 0
    assert [w.code for _, w in warnings] == ["SCIP_UNAVAILABLE"]

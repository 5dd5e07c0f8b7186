"""Sharded scip: the shard plan, the include list, the merge of per-file parts, and a failing
shard (fake indexers; the real one is in tests/e2e/test_scip_shards.py)."""

from __future__ import annotations

import json
import random
import shutil
import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from backends.contract import schemas
from backends.extract import scip
from backends.extract.scip import scip_pb2, shard
from backends.extract.scip.decode import decode_index, decode_parts
from backends.extract.scip.indexer import include_specs
from backends.extract.scip.merge import assemble, assemble_table

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")

G = "scip-python python p 0 "
STDLIB = "scip-python python python-stdlib 3.11 "


# ------------------------------------------------------------------ walk order and the plan


def test_walk_order_lists_a_folders_files_before_its_sub_folders() -> None:
    paths = ["b/x.py", "a.py", "b.py", "a/z.py", "a/b/c.py", "a/a.py"]
    assert shard.walk_order(paths) == ["a.py", "b.py", "a/a.py", "a/z.py", "a/b/c.py", "b/x.py"]


def test_walk_order_compares_utf16_code_units() -> None:
    # U+FF21 (one UTF-16 unit) sorts after U+1F600 (a surrogate pair, 0xD83D...) in UTF-16,
    # before it in code points: pyright compares JavaScript strings.
    assert shard.walk_order(["\uff21.py", "\U0001f600.py"]) == ["\U0001f600.py", "\uff21.py"]


@pytest.mark.parametrize(
    ("requested", "files", "cores", "expected"),
    [
        (0, 0, 2, 0),  # nothing to index
        (0, 10, 4, 1),  # too few files for two shards
        (0, 1000, 2, 1),  # one per two cores: the indexers share them with the pool
        (0, 100, 4, 2),
        (0, 1000, 8, 4),
        (0, 1000, 1, 1),
        (3, 2, 8, 2),  # never more shards than files
        (3, 100, 1, 3),  # asked for: honoured whatever the cores
        (1, 5000, 8, 1),
    ],
)
def test_shard_count(requested: int, files: int, cores: int, expected: int) -> None:
    assert shard.shard_count(requested, files, cores) == expected


@pytest.mark.parametrize("shards", [1, 2, 3, 7])
def test_plan_cuts_the_walk_order_into_contiguous_non_empty_runs(shards: int) -> None:
    sizes = {f"pkg{i % 3}/m{i}.py": 100 + (i * 37) % 900 for i in range(20)}
    runs = shard.plan(sizes, shards)
    assert len(runs) == shards
    assert all(runs)
    assert [p for run in runs for p in run] == shard.walk_order(list(sizes))


def test_plan_balances_bytes() -> None:
    sizes = {f"m{i:02}.py": 1000 for i in range(40)}
    assert [len(r) for r in shard.plan(sizes, 4)] == [10, 10, 10, 10]


def test_plan_does_not_depend_on_the_order_files_are_given_in() -> None:
    sizes = {f"p{i % 4}/m{i}.py": 50 + i for i in range(30)}
    items = list(sizes.items())
    random.Random(3).shuffle(items)
    assert shard.plan(dict(items), 3) == shard.plan(sizes, 3)


def test_plan_never_has_more_runs_than_files() -> None:
    assert shard.plan({"a.py": 1, "b.py": 1}, 5) == [["a.py"], ["b.py"]]
    assert shard.plan({}, 3) == []


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (["a.py", "p/b.py"], ["a.py", "p/b.py"]),
        (["p/we*rd.py", "p/x.py"], ["p", "p/x.py"]),  # pyright would read `*` as a wildcard
        (["w?/a.py", "w?/b.py"], ["."]),
        (["a.py", "a.py"], ["a.py"]),
    ],
)
def test_include_specs_name_the_targets_without_wildcards(
    targets: list[str], expected: list[str]
) -> None:
    assert include_specs(targets) == expected


# ------------------------------------------------------------------ decoding into parts


def _index() -> scip_pb2.Index:
    """Three documents; `a.py` and `b.py` both carry the SymbolInformation of `c.py`'s class
    (as two shards would), and both emitted the external `builtins/len().`."""
    index = scip_pb2.Index()
    a = index.documents.add(relative_path="a.py")
    a.occurrences.add(range=[0, 0, 1], symbol=G + "a/x.", symbol_roles=1)
    a.occurrences.add(
        range=[1, 0, 3], symbol="scip-python python python-stdlib 3.11 builtins/len()."
    )
    a.occurrences.add(range=[2, 0, 1], symbol="local 0", symbol_roles=8)  # a builtin function
    info = a.symbols.add(symbol=G + "c/C#", documentation=["from a"])
    info.relationships.add(symbol=G + "c/Base#", is_implementation=True)
    a.symbols.add(symbol="local 1", documentation=["a local"])
    b = index.documents.add(relative_path="b.py")
    b.occurrences.add(range=[0, 0, 1], symbol="local 0", symbol_roles=1)  # a local variable
    b.occurrences.add(
        range=[0, 2, 5], symbol="scip-python python python-stdlib 3.11 builtins/len()."
    )
    info = b.symbols.add(symbol=G + "c/C#", documentation=["from b"])
    info.relationships.add(symbol=G + "c/Base#", is_reference=True)
    b.symbols.add(symbol="local 1", documentation=["b local"])
    c = index.documents.add(relative_path="c.py")
    c.occurrences.add(range=[0, 6, 7], symbol=G + "c/C#", symbol_roles=1)
    index.external_symbols.add(
        symbol="scip-python python python-stdlib 3.11 builtins/len().", documentation=["len"]
    )
    index.external_symbols.add(symbol="local 0", documentation=["(function) def f(x)"])
    return index


TEXTS = {"a.py": "x\nlen\nf\n", "b.py": "x len\n", "c.py": "class C: ...\n"}


def test_decode_index_is_the_assembly_of_its_parts() -> None:
    data = _index().SerializeToString()
    decoded = decode_parts(data, TEXTS)
    rows, part_warnings = assemble(decoded.parts.values())
    whole = decode_index(data, TEXTS)
    assert whole.rows == rows
    assert whole.warnings == sorted([*decoded.warnings, *part_warnings], key=lambda pw: pw[0])


def test_the_table_is_the_rows_in_primary_key_order() -> None:
    decoded = decode_parts(_index().SerializeToString(), TEXTS)
    rows, _ = assemble(decoded.parts.values())
    table, _ = assemble_table(decoded.parts.values())
    expected = pa.Table.from_pylist(rows, schema=schemas.SCIP)
    assert table.equals(expected.sort_by([(k, "ascending") for k in ("kind", "path", "ordinal")]))


def test_a_global_symbol_carried_twice_keeps_the_earlier_file_and_its_relationships() -> None:
    rows = decode_index(_index().SerializeToString(), TEXTS).rows
    infos = [
        (r["path"], r["documentation"])
        for r in rows
        if r["symbol"] == G.replace(" 0 ", " . ") + "c/C#" and r["kind"] == "symbol"
    ]
    assert infos == [("a.py", "from a")]
    rels = [r["relationship"] for r in rows if r["kind"] == "relationship"]
    assert rels == ["is_implementation"]


def test_local_symbol_information_stays_with_every_document() -> None:
    rows = decode_index(_index().SerializeToString(), TEXTS).rows
    assert sorted(
        (r["path"], r["documentation"])
        for r in rows
        if r["kind"] == "symbol" and r["symbol"] == "local 1"
    ) == [("a.py", "a local"), ("b.py", "b local")]


def test_external_symbols_are_attributed_to_their_possible_emitters() -> None:
    parts = decode_parts(_index().SerializeToString(), TEXTS).parts
    owners = {p: sorted(e.raw for e in part.externals) for p, part in parts.items()}
    # len(): every document that uses it; `local 0`: the document whose `local 0` is the
    # `f` its hover names (b.py's `local 0` is a variable of its own).
    assert owners == {
        "a.py": ["local 0", "scip-python python python-stdlib 3.11 builtins/len()."],
        "b.py": ["scip-python python python-stdlib 3.11 builtins/len()."],
        "c.py": [],
    }


def test_a_local_external_symbol_without_its_emitter_stays_with_every_document_having_it() -> None:
    index = _index()
    index.external_symbols[1].documentation[0] = "no hover here"
    parts = decode_parts(index.SerializeToString(), TEXTS).parts
    assert [p for p, part in parts.items() if "local 0" in {e.raw for e in part.externals}] == [
        "a.py",
        "b.py",
    ]
    rows = decode_index(index.SerializeToString(), TEXTS).rows
    assert [
        r["documentation"]
        for r in rows
        if r["symbol"] == "local 0" and r["kind"] == "symbol" and r["path"] is None
    ] == ["no hover here"]


def test_an_external_parent_symbol_goes_to_the_documents_using_its_children() -> None:
    index = scip_pb2.Index()
    doc = index.documents.add(relative_path="t.py")
    doc.occurrences.add(range=[0, 0, 1], symbol=STDLIB + "sys/argv.argv.", symbol_roles=8)
    index.documents.add(relative_path="a.py").occurrences.add(range=[0, 0, 1], symbol="local 0")
    index.external_symbols.add(symbol=STDLIB + "sys/", documentation=["(module) sys"])
    parts = decode_parts(index.SerializeToString(), {"a.py": "x\n", "t.py": "x\n"}).parts
    assert [e.raw for e in parts["t.py"].externals] == [STDLIB + "sys/"]
    assert parts["a.py"].externals == []


def test_only_the_targets_get_parts_and_other_documents_are_left_out_silently() -> None:
    decoded = decode_parts(_index().SerializeToString(), TEXTS, {"b.py", "d.py"})
    assert list(decoded.parts) == ["b.py"]
    assert decoded.warnings == []


def test_a_target_without_a_document_gets_an_empty_part() -> None:
    texts = {**TEXTS, "e.py": ""}
    parts = decode_parts(_index().SerializeToString(), texts, {"e.py"}).parts
    assert parts["e.py"].occurrences.num_rows == 0 and parts["e.py"].symbols == []


def test_a_document_outside_the_scanned_files_is_skipped_with_a_warning() -> None:
    index = _index()
    index.documents.add(relative_path="../outside.py").occurrences.add(range=[0, 0, 1])
    warnings = decode_parts(index.SerializeToString(), TEXTS).warnings
    assert [(p, w.code) for p, w in warnings] == [("../outside.py", "SCIP_DOCUMENT_SKIPPED")]


def test_assembly_does_not_depend_on_the_order_or_the_split_of_the_parts() -> None:
    data = _index().SerializeToString()
    whole, _ = assemble(decode_parts(data, TEXTS).parts.values())
    split = [decode_parts(data, TEXTS, {p}).parts[p] for p in ("c.py", "b.py", "a.py")]
    # One part per file, as three one-file shards would give (each shard sees all documents).
    assert assemble(split)[0] == whole
    assert assemble(list(reversed(split)))[0] == whole


def test_assembly_numbers_groups_densely() -> None:
    rows, _ = assemble(decode_parts(_index().SerializeToString(), TEXTS).parts.values())
    groups: dict[tuple[str, str | None], list[int]] = {}
    for r in rows:
        groups.setdefault((r["kind"], r["path"]), []).append(r["ordinal"])
    assert all(sorted(v) == list(range(len(v))) for v in groups.values())
    keys = [(r["kind"], r["path"], r["ordinal"]) for r in rows]
    assert len(keys) == len(set(keys))


# ------------------------------------------------------------------ shards that fail


def _fake(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-scip-python"
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _prebuilt(tmp_path: Path, files: dict[str, str]) -> Path:
    """An index with a one-occurrence document per file."""
    index = scip_pb2.Index()
    for path in files:
        index.documents.add(relative_path=path).occurrences.add(
            range=[0, 0, 1], symbol=G + f"`{path}`/__init__:", symbol_roles=1
        )
    out = tmp_path / "prebuilt.scip"
    out.write_bytes(index.SerializeToString())
    return out


FILES = {f"m{i}.py": "x = 1\n" for i in range(4)}

# Fails when its config lists m3.py; otherwise writes the prebuilt index to --output.
_FAIL_ON_M3 = """
cwd=""; out=""
while [ $# -gt 0 ]; do
  [ "$1" = --cwd ] && cwd="$2"; [ "$1" = --output ] && out="$2"; shift
done
if /bin/grep -q m3.py "$cwd/scip-pyrightconfig.json"; then echo 'shard exploded' >&2; exit 9; fi
/bin/cp {prebuilt} "$out"
"""


def _paths_with_rows(result: scip.RepoResult) -> set[str]:
    return {r["path"] for r in result.rows if r["path"] is not None}


@needs_node
def test_a_failing_shard_costs_its_own_files_only(tmp_path: Path) -> None:
    fake = _fake(tmp_path, _FAIL_ON_M3.format(prebuilt=_prebuilt(tmp_path, FILES)))
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=fake, shards=2)
    assert _paths_with_rows(result) == {"m0.py", "m1.py"}
    ((path, warning),) = result.warnings
    detail: dict[str, Any] = json.loads(warning.detail or "{}")
    assert (path, warning.code) == ("", "SCIP_FAILED")
    assert warning.message == "shard 2/2: scip-python exited with code 9"
    assert {k: detail[k] for k in ("shard", "shards", "files", "paths", "returncode")} == {
        "shard": 1,
        "shards": 2,
        "files": 2,
        "paths": ["m2.py", "m3.py"],
        "returncode": 9,
    }
    assert "shard exploded" in detail["stderr_tail"]


@needs_node
def test_a_hanging_shard_is_killed_and_the_others_are_kept(tmp_path: Path) -> None:
    body = _FAIL_ON_M3.replace("echo 'shard exploded' >&2; exit 9", "exec /bin/sleep 60")
    fake = _fake(tmp_path, body.format(prebuilt=_prebuilt(tmp_path, FILES)))
    result = scip.extract_repo(
        tmp_path, FILES, tmp_path / "work", scip_bin=fake, shards=2, timeout_s=2
    )
    assert _paths_with_rows(result) == {"m0.py", "m1.py"}
    ((_, warning),) = result.warnings
    assert warning.code == "SCIP_FAILED"
    assert json.loads(warning.detail or "{}")["timed_out"] is True


@needs_node
def test_shards_index_at_once_in_folders_of_their_own(tmp_path: Path) -> None:
    log = tmp_path / "log"
    body = (
        f'echo "start $$ $(/bin/date +%s%N)" >> {log}; /bin/sleep 1; '
        f'echo "end $$ $(/bin/date +%s%N)" >> {log}\n'
        + _FAIL_ON_M3.replace("/bin/grep -q m3.py", "false")
    )
    fake = _fake(tmp_path, body.format(prebuilt=_prebuilt(tmp_path, FILES)))
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=fake, shards=4)
    assert _paths_with_rows(result) == set(FILES)
    events = [line.split() for line in log.read_text().splitlines()]
    starts = [int(t) for kind, _, t in events if kind == "start"]
    ends = [int(t) for kind, _, t in events if kind == "end"]
    assert len(starts) == 4 and max(starts) < min(ends)  # all four were running together
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == [f"shard-{k}" for k in range(4)]


@needs_node
def test_one_shard_over_every_file_runs_as_before_sharding(tmp_path: Path) -> None:
    # The fake fails whenever it is given a target list.
    body = _FAIL_ON_M3.replace("/bin/grep -q m3.py", "/bin/grep -q include")
    fake = _fake(tmp_path, body.format(prebuilt=_prebuilt(tmp_path, FILES)))
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=fake, shards=1)
    assert (_paths_with_rows(result), result.warnings) == (set(FILES), [])
    assert not list((tmp_path / "work").glob("shard-*"))

"""The scip occurrence rows are built column by column (``decode._occurrence_table``), never
as one Python dict per row: the table must be exactly what the dict-per-row formulation it
replaced gave, row for row and value for value, on a real index."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from backends.contract import schemas
from backends.extract import isolation, scip
from backends.extract.scip import decode, scip_pb2
from backends.extract.scip.indexer import run_indexer
from backends.extract.source import LineIndex

GOLDEN = Path(__file__).resolve().parents[2] / "golden_repos"


def _dict_rows(path: str, doc: scip_pb2.Document, lines: LineIndex) -> list[dict[str, Any]]:
    """The previous formulation: one dict per occurrence, sorted, then numbered."""
    keyed: list[tuple[tuple[int, int, int, str, int], dict[str, Any]]] = []
    columns = decode._Columns(lines)
    for occ in doc.occurrences:
        symbol = decode._normalize(occ.symbol)
        roles = int(occ.symbol_roles)
        span: dict[str, Any] = {}
        rng = decode.byte_range(columns, occ.range)
        if rng is None:
            key = (1, 0, 0, symbol, roles)
        else:
            span = lines.span(*rng)
            key = (0, rng[0], rng[1], symbol, roles)
        row = dict.fromkeys(schemas.SCIP.names)
        row.update(
            kind="occurrence",
            path=path,
            symbol=symbol,
            roles=roles,
            is_definition=bool(roles & 1),
            **span,
        )
        keyed.append((key, row))
    keyed.sort(key=lambda kv: kv[0])
    for ordinal, (_, row) in enumerate(keyed):
        row["ordinal"] = ordinal
    return [row for _, row in keyed]


def _same(path: str, doc: scip_pb2.Document, text: str) -> int:
    table, _ = decode._occurrence_table(path, doc, LineIndex(text))
    expected = pa.Table.from_pylist(_dict_rows(path, doc, LineIndex(text)), schema=schemas.SCIP)
    assert table.schema == schemas.SCIP
    assert table.equals(expected), path
    assert table.to_pylist() == expected.to_pylist(), path
    return table.num_rows


@pytest.mark.skipif(
    not scip.DEFAULT_BIN.exists() or shutil.which("node") is None,
    reason="scip-python not installed: run `npm ci` in tools/scip (needs node on PATH)",
)
@pytest.mark.parametrize("repo", ["unicode_layout", "callgraph", "oop"])
def test_columnar_occurrences_equal_the_dict_rows_on_a_real_index(
    repo: str, tmp_path: Path
) -> None:
    root = GOLDEN / repo
    texts: dict[str, str] = {}
    for p in sorted(root.rglob("*.py")):
        try:
            texts[p.relative_to(root).as_posix()] = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # a file the scan would decode otherwise: not this test's subject
    node = isolation.which_trusted("node")
    assert node is not None
    run = run_indexer(
        texts,
        tmp_path / "work",
        scip_bin=scip.DEFAULT_BIN,
        node_bin=Path(node).resolve(),
        project_name=repo,
        timeout_s=300,
        max_old_space_mb=2048,
    )
    assert run.index_path is not None, run.stderr_tail
    index = decode.parse_index(run.index_path.read_bytes())
    compared = [_same(d.relative_path, d, texts[d.relative_path]) for d in index.documents]
    # Nothing compared is never a pass: the index has documents with occurrences.
    assert len(compared) >= 2 and sum(compared) > 0


def test_columnar_occurrences_keep_unmapped_ranges_last_with_null_spans() -> None:
    doc = scip_pb2.Document(relative_path="a.py")
    doc.occurrences.add(range=[5, 0, 1], symbol="local 1", symbol_roles=1)  # beyond the text
    doc.occurrences.add(range=[0, 4, 5], symbol="local 0", symbol_roles=1)
    doc.occurrences.add(range=[0, 0, 1], symbol="local 0", symbol_roles=8)
    assert _same("a.py", doc, "x = é\n") == 3
    table, warnings = decode._occurrence_table("a.py", doc, LineIndex("x = é\n"))
    assert [w.code for w in warnings] == ["EXTRACT_SPAN_UNMAPPED"]
    assert table["bstart"].to_pylist() == [0, 4, None]
    assert table["ordinal"].to_pylist() == [0, 1, 2]


def test_a_document_without_occurrences_gives_an_empty_table_of_the_schema() -> None:
    table, warnings = decode._occurrence_table("a.py", scip_pb2.Document(), LineIndex(""))
    assert table.num_rows == 0 and table.schema == schemas.SCIP and warnings == []

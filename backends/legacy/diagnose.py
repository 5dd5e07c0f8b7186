"""Hamilton module: the diagnostic views (CONTRACT §13.4): span conflicts and ``diagnostics``."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.codes import WARNING_CODES
from backends.contract.ids import stable_id
from backends.legacy.frames import DEF_KINDS, SYNTAX_SOURCES, diagnostics_table, dumps, rows, where
from backends.legacy.winner import failed_sources, ok_python_files

_MISSING_ORDER: tuple[str, ...] = ("ast", "cst", "tree_sitter", "bytecode", "symtable", "scip")


def _diag_id(code: str, path: str | None, bstart: Any, bend: Any, source: str, ordinal: int) -> str:
    return stable_id("DIAGNOSTIC", [code, path, bstart, bend, source, ordinal])


def _other_spans(table: pa.Table) -> dict[tuple[str, str, str], list[tuple[int, int, int]]]:
    """(path, kind, qualname) -> [(ordinal, bstart, bend)] of one source's definitions."""
    part = where(table, "kind", list(DEF_KINDS))
    part = part.filter(pc.is_valid(part["bstart"]))
    out: dict[tuple[str, str, str], list[tuple[int, int, int]]] = {}
    for path, kind, qualname, ordinal, bstart, bend in rows(
        part, ("path", "kind", "qualname", "ordinal", "bstart", "bend")
    ):
        out.setdefault((path, kind, qualname or ""), []).append((ordinal, bstart, bend))
    for spans in out.values():
        spans.sort()
    return out


def span_conflicts(
    syntax: pa.Table,
    ast: pa.Table,
    cst: pa.Table,
    tree_sitter: pa.Table,
    extract_diagnostics: pa.Table,
) -> pa.Table:
    """``SEM_SPAN_CONFLICT``: a winner definition that a clean other source spans differently."""
    failed = failed_sources(extract_diagnostics)
    others = {
        s: _other_spans(t) for s, t in zip(SYNTAX_SOURCES, (ast, cst, tree_sitter), strict=True)
    }
    found: dict[str, list[tuple[int, int, int, dict[str, Any]]]] = {}
    part = where(syntax, "kind", list(DEF_KINDS))
    for path, kind, qualname, bstart, bend, winner in rows(
        part, ("path", "kind", "qualname", "bstart", "bend", "source")
    ):
        local = qualname or ""
        for rank, other in enumerate(SYNTAX_SOURCES):
            if other == winner or (path, other) in failed:
                continue
            spans = others[other].get((path, kind, local))
            if not spans or any(b == bstart and e == bend for _, b, e in spans):
                continue
            _, b2, e2 = spans[0]
            row = {
                "path": path,
                "bstart": bstart,
                "bend": bend,
                "message": (
                    f"{kind} {local} spans {winner} [{bstart},{bend}) but {other} [{b2},{e2})"
                ),
                "context": dumps(
                    {
                        "kind": kind,
                        "other": other,
                        "other_bend": e2,
                        "other_bstart": b2,
                        "qualname": local,
                        "winner": winner,
                    }
                ),
            }
            found.setdefault(path, []).append((bstart, bend, rank, row))
    info = WARNING_CODES["SEM_SPAN_CONFLICT"]
    out: list[dict[str, Any]] = []
    for path in sorted(found):
        for ordinal, (_, _, _, row) in enumerate(sorted(found[path], key=lambda t: t[:3])):
            out.append(
                {
                    **row,
                    "diagnostic_id": _diag_id(
                        info.code, path, row["bstart"], row["bend"], "semantic", ordinal
                    ),
                    "code": info.code,
                    "severity": str(info.severity),
                    "stage": str(info.stage),
                    "source": "semantic",
                }
            )
    return diagnostics_table(out)


def diagnostics(
    extract_diagnostics: pa.Table,
    span_conflicts: pa.Table,
    repo_scan: pa.Table,
    ast: pa.Table,
    cst: pa.Table,
    tree_sitter: pa.Table,
    bytecode: pa.Table,
    symtable: pa.Table,
    scip: pa.Table,
) -> pa.Table:
    """Every Stage-0 warning, every span conflict and ``SEM_MISSING_EVIDENCE`` rows."""
    out: list[dict[str, Any]] = []
    names = (
        "path",
        "extractor",
        "ordinal",
        "code",
        "severity",
        "message",
        "detail",
        "bstart",
        "bend",
    )
    for path, extractor, ordinal, code, severity, message, detail, bstart, bend in rows(
        extract_diagnostics, names
    ):
        info = WARNING_CODES.get(code)
        out.append(
            {
                "diagnostic_id": _diag_id(code, path, bstart, bend, extractor, ordinal),
                "code": code,
                "severity": severity,
                "stage": str(info.stage) if info is not None else "extract",
                "source": extractor,
                "path": path,
                "bstart": bstart,
                "bend": bend,
                "message": message,
                "context": detail,
            }
        )
    if ok_python_files(repo_scan):
        info = WARNING_CODES["SEM_MISSING_EVIDENCE"]
        tables = {"ast": ast, "cst": cst, "tree_sitter": tree_sitter, "bytecode": bytecode}
        tables |= {"symtable": symtable, "scip": scip}
        for ordinal, name in enumerate(_MISSING_ORDER):
            if tables[name].num_rows:
                continue
            out.append(
                {
                    "diagnostic_id": _diag_id(info.code, "", None, None, "semantic", ordinal),
                    "code": info.code,
                    "severity": str(info.severity),
                    "stage": str(info.stage),
                    "source": "semantic",
                    "path": "",
                    "message": f"evidence table {name} has no rows",
                    "context": dumps({"table": name}),
                }
            )
    table = diagnostics_table(out)
    return pa.concat_tables([table, span_conflicts])

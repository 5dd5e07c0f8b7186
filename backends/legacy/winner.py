"""Which syntax source wins for each file (CONTRACT §7), and which sources parsed it cleanly."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from backends.legacy.frames import SYNTAX_SOURCES, rows


def ok_python_files(repo_scan: pa.Table) -> list[str]:
    """Paths of ``ok`` Python files, sorted."""
    mask = pc.and_(pc.equal(repo_scan["status"], "ok"), repo_scan["is_python"])
    return sorted(repo_scan.filter(mask)["path"].to_pylist())


def failed_sources(extract_diagnostics: pa.Table) -> set[tuple[str, str]]:
    """``(path, source)`` pairs where a syntax source has an error-severity warning."""
    errors = extract_diagnostics.filter(pc.equal(extract_diagnostics["severity"], "error"))
    return {
        (path, extractor)
        for path, extractor in rows(errors, ("path", "extractor"))
        if extractor in SYNTAX_SOURCES
    }


def winners(repo_scan: pa.Table, extract_diagnostics: pa.Table) -> dict[str, str]:
    """path -> winning source: the first of ast, cst, tree_sitter without an error-severity
    warning for the file; tree_sitter when all three have one."""
    failed = failed_sources(extract_diagnostics)
    out: dict[str, str] = {}
    for path in ok_python_files(repo_scan):
        out[path] = next((s for s in SYNTAX_SOURCES if (path, s) not in failed), "tree_sitter")
    return out

"""Registry of warning codes and error codes (CPG contract v1).

A code is a stable, upper-case identifier. Reports, gates and the harness match on codes,
never on message text. Adding a code is a contract change; removing or renaming one is a
breaking change (contract major version).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a warning is. ``error`` means facts were lost for the file or stage named."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Stage(StrEnum):
    """Where a warning or error arose."""

    SCAN = "scan"
    EXTRACT = "extract"
    NORMALIZE = "normalize"
    RELATE = "relate"
    OUTPUT = "output"
    # Engine error stages (DESIGN §6).
    VALIDATE = "validate"
    COMPILE = "compile"
    REGISTER = "register"
    PLAN = "plan"
    EXECUTE = "execute"
    COMMIT = "commit"
    INTERNAL = "internal"


@dataclass(frozen=True)
class CodeInfo:
    """One registered code: its default severity, stage and meaning."""

    code: str
    severity: Severity
    stage: Stage
    meaning: str


_W = Severity.WARNING
_E = Severity.ERROR
_I = Severity.INFO

WARNING_CODES: dict[str, CodeInfo] = {
    c.code: c
    for c in (
        # repo_scan
        CodeInfo(
            "SCAN_SYMLINK_ESCAPE",
            _W,
            Stage.SCAN,
            "symlink points outside the repo root; not followed",
        ),
        CodeInfo(
            "SCAN_SYMLINK_LOOP", _W, Stage.SCAN, "symlink loop or dangling symlink; not followed"
        ),
        CodeInfo(
            "SCAN_UNREADABLE", _E, Stage.SCAN, "file could not be read (permissions or I/O error)"
        ),
        CodeInfo(
            "SCAN_BINARY_FILE",
            _W,
            Stage.SCAN,
            "a .py file that holds binary data (NUL bytes); not parsed",
        ),
        CodeInfo(
            "SCAN_DECODE_ERROR",
            _E,
            Stage.SCAN,
            "source cannot be decoded (invalid UTF-8 or bad encoding cookie)",
        ),
        CodeInfo(
            "SCAN_EMPTY_FILE", _I, Stage.SCAN, "empty source file; no facts beyond the module"
        ),
        CodeInfo(
            "SCAN_NOT_A_REGULAR_FILE",
            _W,
            Stage.SCAN,
            "a .py path that is a FIFO, device or socket (or a link to one); never opened",
        ),
        CodeInfo(
            "SCAN_FILE_TOO_LARGE",
            _W,
            Stage.SCAN,
            "file larger than the extract size limit ([extract].max_file_bytes); not read",
        ),
        CodeInfo(
            "SCAN_PATH_NOT_UTF8",
            _W,
            Stage.SCAN,
            "the file's path is not valid UTF-8; its row holds the escaped path (CONTRACT §1)",
        ),
        # per-file extractors
        CodeInfo(
            "EXTRACT_SYNTAX_ERROR", _E, Stage.EXTRACT, "the extractor's parser rejected the file"
        ),
        CodeInfo(
            "EXTRACT_PARTIAL_PARSE",
            _W,
            Stage.EXTRACT,
            "tree-sitter parsed the file with ERROR/MISSING nodes",
        ),
        CodeInfo(
            "EXTRACT_RECURSION_LIMIT",
            _E,
            Stage.EXTRACT,
            "nesting too deep for the extractor's parser",
        ),
        CodeInfo(
            "EXTRACT_WORKER_CRASHED",
            _E,
            Stage.EXTRACT,
            "the worker process died while extracting the file",
        ),
        CodeInfo(
            "EXTRACT_NESTING_TOO_DEEP",
            _E,
            Stage.EXTRACT,
            "brackets nested deeper than the extractor's native parser survives; not parsed",
        ),
        CodeInfo(
            "EXTRACT_TIMEOUT", _E, Stage.EXTRACT, "the extractor exceeded its per-file time limit"
        ),
        CodeInfo(
            "EXTRACT_FAILED",
            _E,
            Stage.EXTRACT,
            "the extractor raised an unexpected error on the file",
        ),
        CodeInfo(
            "EXTRACT_SPAN_UNMAPPED",
            _W,
            Stage.EXTRACT,
            "a native position could not be mapped to a byte span",
        ),
        # scip
        CodeInfo(
            "SCIP_UNAVAILABLE",
            _W,
            Stage.EXTRACT,
            "scip-python is not installed; scip evidence is empty",
        ),
        CodeInfo(
            "SCIP_FAILED", _W, Stage.EXTRACT, "scip-python failed, timed out or ran out of memory"
        ),
        CodeInfo(
            "SCIP_DOCUMENT_SKIPPED",
            _W,
            Stage.EXTRACT,
            "a SCIP document names a file outside the scanned set",
        ),
        # imports
        CodeInfo(
            "IMPORT_UNRESOLVED",
            _I,
            Stage.EXTRACT,
            "an import resolves neither in the repo nor outside it",
        ),
        CodeInfo(
            "IMPORT_SOURCES_DISAGREE",
            _W,
            Stage.EXTRACT,
            "ast, cst and tree-sitter saw different imports",
        ),
        CodeInfo(
            "EXTERNAL_METADATA_INVALID",
            _W,
            Stage.EXTRACT,
            "pyproject.toml or requirements*.txt unreadable or of an unexpected shape; the "
            "dependencies it would declare are not used",
        ),
        # semantics (both backends)
        CodeInfo(
            "SEM_SPAN_CONFLICT",
            _W,
            Stage.NORMALIZE,
            "parsers disagree on a definition's span; ast wins",
        ),
        CodeInfo(
            "SEM_MISSING_EVIDENCE", _W, Stage.NORMALIZE, "an evidence table is empty or absent"
        ),
    )
}

ERROR_CODES: dict[str, CodeInfo] = {
    c.code: c
    for c in (
        CodeInfo("SPEC_INVALID", _E, Stage.VALIDATE, "the spec does not decode or violates a rule"),
        CodeInfo(
            "SPEC_VERSION_UNSUPPORTED",
            _E,
            Stage.VALIDATE,
            "spec_version or contract version unknown",
        ),
        CodeInfo("VIEW_CYCLE", _E, Stage.COMPILE, "the view dependency graph has a cycle"),
        CodeInfo(
            "VIEW_UNKNOWN", _E, Stage.COMPILE, "a view or output names an unknown view or input"
        ),
        CodeInfo("INPUT_TABLE_MISSING", _E, Stage.REGISTER, "a bound Delta table does not exist"),
        CodeInfo(
            "DELTA_VERSION_MISSING", _E, Stage.REGISTER, "the pinned Delta version does not exist"
        ),
        CodeInfo(
            "DELTA_PROTOCOL_UNSUPPORTED",
            _E,
            Stage.REGISTER,
            "the Delta table needs an unsupported reader feature",
        ),
        CodeInfo("DELTA_LOG_CORRUPT", _E, Stage.REGISTER, "the Delta log cannot be read"),
        CodeInfo(
            "DELTA_DATA_CORRUPT",
            _E,
            Stage.REGISTER,
            "a data file of the pinned Delta version is not readable Parquet",
        ),
        CodeInfo(
            "INPUT_SCHEMA_MISMATCH",
            _E,
            Stage.REGISTER,
            "a bound table's schema differs from the contract",
        ),
        CodeInfo("PLAN_FAILED", _E, Stage.PLAN, "a view could not be planned"),
        CodeInfo(
            "OUTPUT_SCHEMA_MISMATCH", _E, Stage.PLAN, "a view's schema differs from the contract"
        ),
        CodeInfo("EXECUTION_FAILED", _E, Stage.EXECUTE, "executing the plan failed"),
        CodeInfo("COMMIT_FAILED", _E, Stage.COMMIT, "committing an output to Delta failed"),
        CodeInfo("EXTRACTION_FAILED", _E, Stage.EXTRACT, "Stage-0 extraction could not run at all"),
        CodeInfo(
            "INTERNAL_PANIC", _E, Stage.INTERNAL, "the engine panicked; caught at the boundary"
        ),
        CodeInfo("INTERNAL_ERROR", _E, Stage.INTERNAL, "an unexpected internal error"),
    )
}


def warning_info(code: str) -> CodeInfo:
    """The registered warning; KeyError for an unregistered code (a contract bug)."""
    return WARNING_CODES[code]


def error_info(code: str) -> CodeInfo:
    """The registered error; KeyError for an unregistered code (a contract bug)."""
    return ERROR_CODES[code]

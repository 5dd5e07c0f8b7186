"""The nine extractors, their contract tables and their stages (DESIGN §4)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Protocol, cast

from backends.extract.result import FileResult
from backends.extract.source import SourceFile


class PerFileExtractor(Protocol):
    """A module that extracts one file at a time in a worker process."""

    NAME: str
    VERSION: str

    def extract(self, source: SourceFile) -> FileResult: ...


# Per-file extractors run in the worker pool; their modules are imported lazily in workers.
PER_FILE_MODULES: dict[str, str] = {
    "ast": "backends.extract.ast_extractor",
    "cst": "backends.extract.cst_extractor",
    "tree_sitter": "backends.extract.tree_sitter_extractor",
    "bytecode": "backends.extract.bytecode_extractor",
    "symtable": "backends.extract.symtable_extractor",
}
PER_FILE: tuple[str, ...] = tuple(PER_FILE_MODULES)
# The version of each per-file extractor's rows, part of its cache key: bump it when the rows
# it gives for the same file change. Kept here, not in the modules (which read it from here),
# so the parent process keys the cache without importing parsers (libcst, tree-sitter) that a
# warm run never calls.
PER_FILE_VERSIONS: dict[str, str] = {
    "ast": "1",
    "cst": "1",
    "tree_sitter": "1",
    "bytecode": "1",
    "symtable": "1",
}

# Staged barriers: each stage starts when the previous one has finished.
STAGES: tuple[tuple[str, ...], ...] = (
    ("repo_scan",),
    ("ast", "cst", "tree_sitter", "bytecode", "symtable", "scip"),
    ("python_imports",),
    ("python_external",),
)


def extractor_version(name: str) -> str:
    """The version of a per-file extractor (its cache key part), without importing it."""
    return PER_FILE_VERSIONS[name]


def per_file_extractor(name: str) -> PerFileExtractor:
    module: ModuleType = importlib.import_module(PER_FILE_MODULES[name])
    return cast(PerFileExtractor, module)

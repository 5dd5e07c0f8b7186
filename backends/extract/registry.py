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

# Staged barriers: each stage starts when the previous one has finished.
STAGES: tuple[tuple[str, ...], ...] = (
    ("repo_scan",),
    ("ast", "cst", "tree_sitter", "bytecode", "symtable", "scip"),
    ("python_imports",),
    ("python_external",),
)


def per_file_extractor(name: str) -> PerFileExtractor:
    module: ModuleType = importlib.import_module(PER_FILE_MODULES[name])
    return cast(PerFileExtractor, module)

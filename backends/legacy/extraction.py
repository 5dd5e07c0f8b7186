"""Hamilton module: Stage-0 extraction as staged nodes (DESIGN §4).

    repo_scan_stage ─► syntax_stage ({ast, cst, tree_sitter, bytecode, symtable, scip})
                    ─► imports_stage (python_imports) ─► external_stage (python_external)
                    ─► extraction (every evidence table written to Delta)

Each node calls one stage function of ``backends.extract.runner``; the run state passes from
node to node, so the Hamilton DAG *is* the barrier order.
"""

from __future__ import annotations

from pathlib import Path

from backends.extract import runner
from backends.extract.runner import ExtractOptions, ExtractRun
from backends.extract.summary import ExtractSummary


def repo_scan_stage(repo: Path, out_dir: Path, extract_options: ExtractOptions) -> ExtractRun:
    """Walk the repository (``repo_scan``)."""
    return runner.scan_stage(repo, out_dir, extract_options)


def syntax_stage(repo_scan_stage: ExtractRun) -> ExtractRun:
    """Per-file parsers in the process pool, scip alongside."""
    return runner.per_file_stage(repo_scan_stage)


def imports_stage(syntax_stage: ExtractRun) -> ExtractRun:
    """Reconcile the imports of the three syntax sources (``python_imports``)."""
    return runner.imports_stage(syntax_stage)


def external_stage(imports_stage: ExtractRun) -> ExtractRun:
    """Classify the imports that leave the repository (``python_external``)."""
    return runner.external_stage(imports_stage)


def extraction(external_stage: ExtractRun) -> ExtractSummary:
    """Write every evidence table to ``out_dir/evidence`` and summarize the run."""
    return runner.write_stage(external_stage)

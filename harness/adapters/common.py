"""What every build shares whatever its backend: the workload spec bound to a run's evidence."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable

from backends.contract.schemas import EVIDENCE_TABLES
from backends.contract.spec import SemanticExecutionSpec, SpecPolicy
from backends.contract.views import default_spec, evidence_bindings


def evidence_versions(evidence_dir: Path) -> dict[str, int]:
    """The current Delta version of every evidence table under ``evidence_dir``."""
    return {name: int(DeltaTable(str(evidence_dir / name)).version()) for name in EVIDENCE_TABLES}


def workload_spec(evidence_dir: Path, policy: SpecPolicy) -> SemanticExecutionSpec:
    """The CPG workload over the evidence of one run, pinned to the versions found now."""
    root = evidence_dir.resolve()
    return default_spec(evidence_bindings(str(root), evidence_versions(root)), policy=policy)

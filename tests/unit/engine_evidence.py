"""Evidence for the engine facade tests: golden ``callgraph`` extracted by the CLI once per
module, and the default workload spec over it (optionally with chosen outputs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from backends.contract.schemas import EVIDENCE_TABLES
from backends.contract.spec import OutputSpec, SemanticExecutionSpec
from backends.contract.views import default_spec, evidence_bindings

ROOT = Path(__file__).parents[2]
CLI = str(Path(sys.executable).with_name("codeanatomy"))


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stage-0 evidence of golden_repos/callgraph (extracted once per module)."""
    out = tmp_path_factory.mktemp("ev")
    subprocess.run(
        [CLI, "extract", "golden_repos/callgraph", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / "evidence"


def workload(evidence_dir: Path, **outputs: str) -> SemanticExecutionSpec:
    """The default spec over ``evidence_dir`` (every table at version 0); ``outputs`` maps
    output tables to the views that fill them, when only some are wanted."""
    spec = default_spec(evidence_bindings(str(evidence_dir), dict.fromkeys(EVIDENCE_TABLES, 0)))
    if outputs:
        chosen = tuple(OutputSpec(table=t, view=v) for t, v in outputs.items())
        spec = msgspec.structs.replace(spec, outputs=chosen)
    return spec

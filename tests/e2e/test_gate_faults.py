"""Breaking one thing fails exactly the gate that should fail.

Three planted faults, each run through the gates determinism, observability, rollback and
deletion on the smallest golden repo (parity, perf and cutover need the whole corpus or bench
reports). A baseline with no fault passes all four, so each fault flips exactly one gate:

- a ``hamilton`` import outside the legacy folder (in a copy of the project) -> deletion;
- a nondeterministic value in one committed output of the Rust engine -> determinism;
- an engaged kill switch that routing ignores -> rollback (``served_by_legacy``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from backends.contract.result import OutputInfo, RunResult
from backends.contract.spec import SemanticExecutionSpec
from backends.extract.delta import read_table, write_table
from harness.adapters.rust import RustAdapter
from harness.config.load import LoadedConfig, load_text
from harness.gates.gates import GateContext, run_gate
from harness.gates.verdict import Check, GateVerdict
from harness.killswitch.decision import (
    ENV_KILL_SWITCH,
    KillSwitchDecision,
    effective_kill_switch,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "golden_repos"
# The smallest authored golden repo (fewest bytes of Python): every gate builds it 5 times.
REPO = "src_layout"
GATES = ("determinism", "observability", "rollback", "deletion")
# What a copy of the project for the deletion scanner leaves out: environments, build output,
# caches, reports and the analysed fixtures (none of them is scanned; the scanner skips them).
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "target",
    "node_modules",
    "__pycache__",
    "reports",
    "golden_repos",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    ".benchmarks",
    ".codeanatomy",
    "*.so",
)


@pytest.fixture(scope="module", autouse=True)
def _environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One extraction cache for the whole module (in a temporary folder, warm after the
    baseline), and no kill switch from the caller's environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CODEANATOMY_CACHE", str(tmp_path_factory.mktemp("cache")))
        patch.delenv(ENV_KILL_SWITCH, raising=False)
        yield


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the golden repo (builds never touch the checkout); same folder name."""
    target = tmp_path_factory.mktemp("repos") / REPO
    shutil.copytree(GOLDEN / REPO, target, symlinks=True)
    return target


def _config(folder: Path) -> LoadedConfig:
    """A default configuration whose state folder (kill switch) lies in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "codeanatomy.toml"
    file.write_text("")
    return load_text("", file=file, root=folder, env={})


def _context(tmp_path: Path, repo: Path, project: Path = ROOT) -> GateContext:
    return GateContext(
        config=_config(tmp_path / "config"),
        repos=(repo,),
        work=tmp_path / "work",
        project=project,
    )


def _run_gates(ctx: GateContext) -> dict[str, GateVerdict]:
    return {name: run_gate(name, ctx) for name in GATES}


def _failed(verdicts: Mapping[str, GateVerdict]) -> set[str]:
    return {name for name, verdict in verdicts.items() if not verdict.passed}


def _explain(verdicts: Mapping[str, GateVerdict]) -> str:
    return "\n".join(
        f"{name}: {'pass' if v.passed else 'FAIL'} "
        + "; ".join(f"{c.name}={'ok' if c.passed else 'FAIL'} ({c.detail})" for c in v.checks)
        for name, v in verdicts.items()
    )


def _check(verdict: GateVerdict, name: str) -> Check:
    found = [c for c in verdict.checks if c.name == name]
    assert len(found) == 1, f"no single check {name!r} in {verdict.checks}"
    return found[0]


def _only_failing(verdicts: Mapping[str, GateVerdict], gate: str) -> GateVerdict:
    """Assert that exactly ``gate`` failed; return its verdict."""
    assert _failed(verdicts) == {gate}, _explain(verdicts)
    return verdicts[gate]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> dict[str, GateVerdict]:
    """The four gates with nothing broken (also warms the shared extraction cache)."""
    return _run_gates(_context(tmp_path_factory.mktemp("baseline"), repo))


@pytest.fixture
def sound_baseline(baseline: dict[str, GateVerdict]) -> None:
    """A fault test means something only when the same gates pass without the fault."""
    assert not _failed(baseline), "baseline fails, so no fault test is meaningful:\n" + _explain(
        baseline
    )


def test_without_a_fault_every_gate_passes(baseline: dict[str, GateVerdict], repo: Path) -> None:
    assert not _failed(baseline), _explain(baseline)
    assert _check(baseline["deletion"], "preflight").detail == "0 blockers"
    for backend in ("legacy", "rust"):
        name = f"{backend}/{repo.name}"
        assert _check(baseline["determinism"], name).detail == "identical fingerprints"
        assert _check(baseline["observability"], name).detail == "complete"
    served = _check(baseline["rollback"], "served_by_legacy")
    assert served.detail.startswith("kill switch (state): engaged by rollback-drill")


@pytest.mark.usefixtures("sound_baseline")
def test_a_hamilton_import_outside_the_legacy_folder_fails_only_deletion(
    tmp_path: Path, repo: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, symlinks=True, ignore=COPY_IGNORE)
    ctx = _context(tmp_path, repo, project=project)
    # The copy itself is clean: what fails below is the planted import, not the copy.
    assert run_gate("deletion", ctx).passed

    (project / "harness" / "sneaky.py").write_text('"""Planted fault."""\n\nimport hamilton\n')
    verdicts = _run_gates(ctx)

    deletion = _only_failing(verdicts, "deletion")
    blocker = _check(deletion, "harness/sneaky.py:3")
    assert not blocker.passed
    assert blocker.detail == "harness/sneaky.py -> hamilton"
    preflight = _check(deletion, "preflight")
    assert (preflight.passed, preflight.detail) == (False, "1 blockers")


@pytest.mark.usefixtures("sound_baseline")
def test_a_nondeterministic_output_column_fails_only_determinism(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Rust engine's semantic stage commits ``cpg_props`` with one ``value`` that differs
    per run. Only Rust builds are affected: the rollback drill is served by legacy and compares
    two legacy builds, observability checks presence (not values), deletion reads no output."""
    real_run_semantics = RustAdapter.run_semantics
    planted: list[str] = []

    def plant(output: OutputInfo) -> OutputInfo:
        """Commit ``cpg_props`` again with one ``value`` replaced by a fresh UUID (same
        schema, same rows); the result then names that commit."""
        if output.table != "cpg_props":
            return output
        uri = Path(output.uri)
        table = read_table(uri, output.delta_version)
        assert table.num_rows > 0
        values = table.column("value").to_pylist()
        values[0] = uuid.uuid4().hex
        planted.append(values[0])
        index = table.schema.get_field_index("value")
        field = table.schema.field(index)
        changed = table.set_column(index, field, pa.array(values, type=field.type))
        assert changed.schema == table.schema
        return msgspec.structs.replace(output, delta_version=write_table(uri, changed))

    def nondeterministic_run_semantics(
        self: RustAdapter,
        spec: SemanticExecutionSpec,
        outputs_dir: object,
        views_dir: object = None,
    ) -> RunResult:
        result = real_run_semantics(self, spec, outputs_dir, views_dir)
        return msgspec.structs.replace(result, outputs=tuple(plant(o) for o in result.outputs))

    monkeypatch.setattr(RustAdapter, "run_semantics", nondeterministic_run_semantics)
    verdicts = _run_gates(_context(tmp_path, repo))

    determinism = _only_failing(verdicts, "determinism")
    rust = _check(determinism, f"rust/{repo.name}")
    assert (rust.passed, rust.detail) == (False, "differ: ['cpg_props']")
    legacy = _check(determinism, f"legacy/{repo.name}")
    assert (legacy.passed, legacy.detail) == (True, "identical fingerprints")
    # The fault was really in place: 3 determinism builds and 1 observability build of Rust.
    assert len(planted) == 4 and len(set(planted)) == 4


@pytest.mark.usefixtures("sound_baseline")
def test_an_ignored_kill_switch_fails_only_rollback(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routing reads the kill switch and reports it released, whatever its real position."""
    seen: list[KillSwitchDecision] = []

    def ignored_kill_switch(
        config: LoadedConfig, env: Mapping[str, str] = os.environ
    ) -> KillSwitchDecision:
        decision = effective_kill_switch(config, env)
        seen.append(decision)
        return msgspec.structs.replace(decision, engaged=False, detail="ignored (planted fault)")

    # Where routing looks the switch up (the gate's own reads stay real).
    monkeypatch.setattr("harness.route.effective_kill_switch", ignored_kill_switch)
    verdicts = _run_gates(_context(tmp_path, repo))

    rollback = _only_failing(verdicts, "rollback")
    served = _check(rollback, "served_by_legacy")
    assert (served.passed, served.detail) == (False, "requested --backend rust")
    restored = _check(rollback, "state_restored")
    assert (restored.passed, restored.detail) == (True, "engaged=False")
    # The drill did engage the switch; routing was consulted and looked away.
    assert [d.engaged for d in seen] == [True]
    assert seen[0].source == "state"

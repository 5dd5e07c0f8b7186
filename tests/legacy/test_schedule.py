"""The legacy view schedule: validation, cycles, pruning and generations (CONTRACT §9, §12)."""

from __future__ import annotations

import pytest

from backends.contract.schemas import EVIDENCE_TABLES
from backends.contract.spec import DatasetBinding, OutputSpec, SemanticExecutionSpec, ViewSpec
from backends.contract.views import default_spec, evidence_bindings
from backends.legacy import LegacyError, plan
from backends.legacy.schedule import build_schedule

_PINS = dict.fromkeys(EVIDENCE_TABLES, 0)


def _spec(
    views: list[tuple[str, tuple[str, ...]]], outputs: list[tuple[str, str]]
) -> SemanticExecutionSpec:
    return SemanticExecutionSpec(
        inputs=tuple(
            DatasetBinding(name=n, uri=f"/e/{n}", delta_version=0) for n in EVIDENCE_TABLES
        ),
        views=tuple(ViewSpec(name=n, kind="normalize", inputs=i) for n, i in views),
        outputs=tuple(OutputSpec(table=t, view=v) for t, v in outputs),
    )


def test_cycle_error_names_the_cycle() -> None:
    spec = _spec(
        [("a", ("repo_scan", "c")), ("b", ("a",)), ("c", ("b",)), ("cpg_nodes", ("a",))],
        [("cpg_nodes", "cpg_nodes")],
    )
    with pytest.raises(LegacyError) as err:
        build_schedule(spec)
    assert err.value.code == "VIEW_CYCLE"
    assert err.value.stage == "compile"
    cycle = err.value.context["cycle"]
    assert set(cycle) == {"a", "b", "c"} and cycle[0] == cycle[-1]


def test_self_loop_is_a_cycle() -> None:
    spec = _spec([("cpg_nodes", ("cpg_nodes",))], [("cpg_nodes", "cpg_nodes")])
    with pytest.raises(LegacyError) as err:
        build_schedule(spec)
    assert err.value.context["cycle"] == ["cpg_nodes", "cpg_nodes"]


@pytest.mark.parametrize(
    ("views", "outputs"),
    [
        ([("not_a_view", ("repo_scan",))], [("cpg_nodes", "not_a_view")]),
        ([("file_nodes", ("repo_scan", "ast"))], [("cpg_nodes", "file_nodes")]),
        ([("file_nodes", ("nowhere",))], [("cpg_nodes", "file_nodes")]),
        ([("file_nodes", ("repo_scan",))], [("cpg_nodes", "missing_view")]),
    ],
    ids=["unknown-view", "catalogue-inputs-differ", "unknown-input", "output-view-missing"],
)
def test_unknown_views_and_inputs_are_view_unknown(
    views: list[tuple[str, tuple[str, ...]]], outputs: list[tuple[str, str]]
) -> None:
    with pytest.raises(LegacyError) as err:
        build_schedule(_spec(views, outputs))
    assert err.value.code == "VIEW_UNKNOWN"


def test_duplicate_names_are_spec_invalid() -> None:
    spec = _spec([("file_nodes", ("repo_scan",)), ("file_nodes", ("repo_scan",))], [])
    with pytest.raises(LegacyError) as err:
        build_schedule(spec)
    assert err.value.code == "SPEC_INVALID"


def test_unsupported_spec_version_is_rejected() -> None:
    spec = SemanticExecutionSpec(spec_version=99)
    with pytest.raises(LegacyError) as err:
        build_schedule(spec)
    assert err.value.code == "SPEC_VERSION_UNSUPPORTED"


def test_pruning_keeps_only_what_the_outputs_need() -> None:
    spec = default_spec(evidence_bindings("/e", _PINS), outputs=("diagnostics",))
    sched = build_schedule(spec)
    assert sched.kept_views == ("diagnostics", "span_conflicts", "syntax")
    assert "cpg_nodes" in sched.pruned
    assert set(sched.used_inputs) == {
        "repo_scan",
        "ast",
        "cst",
        "tree_sitter",
        "bytecode",
        "symtable",
        "scip",
        "extract_diagnostics",
    }


def test_generations_are_one_more_than_the_deepest_view_input() -> None:
    spec = default_spec(evidence_bindings("/e", _PINS), outputs=("diagnostics",))
    assert build_schedule(spec).generations == (("syntax",), ("span_conflicts",), ("diagnostics",))


def test_full_workload_schedule_starts_from_inputs_and_ends_with_props() -> None:
    sched = build_schedule(default_spec(evidence_bindings("/e", _PINS)))
    assert sched.generations[0] == (
        "evidence_summary",
        "external_nodes",
        "file_nodes",
        "import_nodes",
        "symbol_nodes",
        "syntax",
    )
    assert sched.generations[-1] == ("cpg_props",)
    assert not sched.pruned


def test_plan_tier_two_reports_edges_and_schedule() -> None:
    spec = default_spec(evidence_bindings("/e", _PINS), outputs=("evidence_summary",))
    report = plan(spec, 2)
    assert report.backend == "legacy"
    assert report.outputs == ("evidence_summary",)
    assert report.schedule == (("evidence_summary",),)
    assert report.edges == tuple(sorted((n, "evidence_summary") for n in EVIDENCE_TABLES))
    assert report.graph == {"inputs": 10, "views": 1, "edges": 10, "generations": 1, "pruned": 22}


def test_plan_tier_one_has_no_edges() -> None:
    report = plan(default_spec(evidence_bindings("/e", _PINS)), 1)
    assert report.edges is None and report.schedule is None


def test_plan_tier_three_is_not_supported() -> None:
    with pytest.raises(ValueError, match="legacy backend supports plan tiers 1-2"):
        plan(default_spec(evidence_bindings("/e", _PINS)), 3)

"""OpenTelemetry: versioned span and metric names, recorded by the gateway, builds and
comparisons; silent without a configured provider (the in-memory exporter checks it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from harness import telemetry
from harness.compare.runs import compare_runs
from harness.config.load import load_text
from harness.route import decide_route

NAME = re.compile(r"^codeanatomy\.[a-z_]+\.[a-z_]+\.v\d+$")
EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def providers() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))


def test_every_event_name_is_versioned() -> None:
    names = [v for k, v in vars(telemetry).items() if k.startswith(("SPAN_", "METRIC_"))]
    assert names and all(NAME.match(n) for n in names), names


def test_a_comparison_emits_one_span_per_table_with_its_severity(tmp_path: Path) -> None:
    EXPORTER.clear()
    for side in ("a", "b"):
        write_deltalake(
            str(tmp_path / side / "outputs" / "evidence_summary"), pa.table({"source": ["x"]})
        )
    compare_runs(tmp_path / "a", tmp_path / "b")
    spans = [s for s in EXPORTER.get_finished_spans() if s.name == telemetry.SPAN_COMPARE]
    attrs = [dict(s.attributes or {}) for s in spans]
    tables = {(a["stage"], a["table"]): a["severity"] for a in attrs}
    assert tables[("outputs", "evidence_summary")] == "ok"
    assert len(spans) == 15  # 10 evidence + 5 outputs (no views on either side)


def test_routing_and_metrics_are_recorded(tmp_path: Path) -> None:
    EXPORTER.clear()
    file = tmp_path / "codeanatomy.toml"
    file.write_text("")
    config = load_text("", file=file, root=tmp_path, env={})
    with telemetry.span(telemetry.SPAN_ROUTE, requested="rust") as current:
        route = decide_route(
            config, "rust", env={"CODEANATOMY_KILL_SWITCH": "1"}, rust_problem=lambda: None
        )
        current.set_attribute("source", route.source)
    telemetry.record_warnings({"IMPORT_UNRESOLVED": 3}, backend="legacy")
    telemetry.record_mismatches({"sev1": 0, "sev2": 2})
    (route_span,) = [s for s in EXPORTER.get_finished_spans() if s.name == telemetry.SPAN_ROUTE]
    assert dict(route_span.attributes or {})["source"] == "kill_switch"
    data = READER.get_metrics_data()
    assert data is not None
    points = {
        m.name: [
            dict(p.attributes or {}) | {"value": getattr(p, "value", None)}
            for p in m.data.data_points
        ]
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    assert {"code": "IMPORT_UNRESOLVED", "backend": "legacy", "value": 3} in points[
        telemetry.METRIC_WARNINGS
    ]
    assert points[telemetry.METRIC_MISMATCHES] == [{"severity": "sev2", "value": 2}]


def test_without_configuration_nothing_is_installed_or_printed() -> None:
    assert telemetry.configure_from_env({}) is False
    code = (
        "from harness import telemetry as t\n"
        "with t.span(t.SPAN_BUILD, backend='rust') as s: s.set_attribute('x', 1)\n"
        "t.record_warnings({'A': 1}); t.record_stage('extract', 1.0)\n"
        "from opentelemetry import trace\n"
        "print(type(trace.get_tracer_provider()).__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={
            k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CODEANATOMY_OTEL"))
        },
    )
    assert proc.stdout.strip() == "ProxyTracerProvider"
    assert proc.stderr == ""


@pytest.mark.parametrize("otel", ["console", ""])
def test_the_cli_prints_spans_on_stderr_only_when_asked(tmp_path: Path, otel: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "m.py").write_text("def f():\n    return 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEANATOMY_")}
    env["CODEANATOMY_OTEL"] = otel
    cli = str(Path(sys.executable).parent / "codeanatomy")
    argv = [cli, "build", str(repo), "--out", str(tmp_path / "out"), "--no-scip", "--json"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True, timeout=300)
    assert json.loads(done.stdout)["backend"]  # stdout stays the --json answer
    assert ("codeanatomy.gateway.route.v1" in done.stderr) is (otel == "console")

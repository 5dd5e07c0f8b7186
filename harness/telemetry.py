"""OpenTelemetry spans and metrics of codeanatomy (issue: observability).

Event names are versioned: ``codeanatomy.<area>.<event>.v1``. Only the OpenTelemetry API is
called here; with no SDK provider configured (the default) every call is a no-op that costs
nothing and prints nothing. Operators configure an SDK and exporter the usual way
(``opentelemetry-instrument``, or their own ``TracerProvider``); ``CODEANATOMY_OTEL=console``
installs a console exporter for a quick look.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import metrics, trace

_SCOPE = "codeanatomy"
_VERSION = "1"

SPAN_ROUTE = "codeanatomy.gateway.route.v1"
SPAN_EXTRACT = "codeanatomy.build.extract.v1"
SPAN_SEMANTIC = "codeanatomy.build.semantic.v1"
SPAN_BUILD = "codeanatomy.build.run.v1"
SPAN_COMPARE = "codeanatomy.compare.table.v1"
SPAN_SHADOW = "codeanatomy.shadow.run.v1"
METRIC_MISMATCHES = "codeanatomy.parity.mismatches.v1"
METRIC_WARNINGS = "codeanatomy.run.warnings.v1"
METRIC_STAGE_SECONDS = "codeanatomy.stage.duration.v1"


def _attrs(values: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    return {
        k: v if isinstance(v, str | int | float | bool) else str(v)
        for k, v in values.items()
        if v is not None
    }


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A span named ``name`` (one of the ``SPAN_*`` names) with the given attributes."""
    tracer = trace.get_tracer(_SCOPE, _VERSION)
    with tracer.start_as_current_span(name, attributes=_attrs(attributes)) as current:
        yield current


def record_stage(stage: str, seconds: float, **attributes: Any) -> None:
    """Duration of one stage (``extract``, ``semantic``, ``compare``...) in seconds."""
    meter = metrics.get_meter(_SCOPE, _VERSION)
    meter.create_histogram(METRIC_STAGE_SECONDS, unit="s").record(
        seconds, _attrs({"stage": stage, **attributes})
    )


def record_warnings(counts: Mapping[str, int], **attributes: Any) -> None:
    """Warnings of a run, by code."""
    counter = metrics.get_meter(_SCOPE, _VERSION).create_counter(METRIC_WARNINGS)
    for code, count in counts.items():
        counter.add(count, _attrs({"code": code, **attributes}))


def record_mismatches(counts: Mapping[str, int], **attributes: Any) -> None:
    """Parity findings, by severity."""
    counter = metrics.get_meter(_SCOPE, _VERSION).create_counter(METRIC_MISMATCHES)
    for severity, count in counts.items():
        if count:
            counter.add(count, _attrs({"severity": severity, **attributes}))


def configure_from_env(env: Mapping[str, str] | None = None) -> bool:
    """Install a console exporter when ``CODEANATOMY_OTEL=console``; True when installed."""
    environ = os.environ if env is None else env
    if environ.get("CODEANATOMY_OTEL", "").strip().lower() != "console":
        return False
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider()
    # stderr: stdout carries a command's --json answer.
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    trace.set_tracer_provider(provider)
    return True

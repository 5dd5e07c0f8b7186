"""Which backend serves a build (DESIGN §8): kill switch > request > config (with its env
layer) > default, then a fallback to legacy when the Rust extension cannot load.

A pure decision over the loaded configuration, the environment and the kill-switch state: the
gateway calls it on every build, so an engaged switch takes effect on the very next build.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from harness.config.load import LoadedConfig
from harness.killswitch.decision import effective_kill_switch
from harness.vocabulary import Mode

__all__ = ["Mode", "Route", "RouteSource", "decide_route", "rust_unavailable"]

RouteSource = Literal["kill_switch", "request", "config", "default", "fallback"]


@dataclass(frozen=True)
class Route:
    """The routing decision: the mode, the primary (and candidate in shadow) and why."""

    mode: Mode
    primary: str
    candidate: str | None
    source: RouteSource
    reason: str
    notes: tuple[str, ...] = ()


def rust_unavailable() -> str | None:
    """None when the Rust engine can serve here; else why not. Asked of :func:`adapter`, the
    one place that checks whether a backend loads."""
    from harness.adapters import unavailable

    reason = unavailable("rust")
    return None if reason is None else f"the Rust extension cannot load: {reason}"


def decide_route(
    config: LoadedConfig,
    requested: Mode | None = None,
    env: Mapping[str, str] | None = None,
    rust_problem: Callable[[], str | None] = rust_unavailable,
) -> Route:
    """Route one build. ``requested`` is an explicit choice (``--backend``), if any."""
    environ = os.environ if env is None else env
    kill = effective_kill_switch(config, environ)
    notes = tuple(f"{w.code}: {w.message}" for w in kill.warnings)
    if kill.engaged:
        return Route(
            "legacy",
            "legacy",
            None,
            "kill_switch",
            f"kill switch ({kill.source}): {kill.detail}",
            notes,
        )
    engine = config.config.engine
    if requested is not None:
        mode, source, why = requested, "request", f"requested --backend {requested}"
    elif (origin := config.sources.get("engine.backend")) is not None and origin.kind != "default":
        where = origin.key or "engine.backend"
        mode, source, why = engine.backend, "config", f"{where} = {engine.backend} ({origin.kind})"
    else:
        mode, source, why = engine.backend, "default", f"default backend {engine.backend}"
    if mode == "shadow":
        primary, candidate = engine.primary, engine.candidate
    else:
        primary, candidate = mode, None
    problem = rust_problem() if "rust" in (primary, candidate) else None
    if problem is not None and primary == "rust":
        return Route(
            "legacy", "legacy", None, "fallback", f"{why}; served by legacy: {problem}", notes
        )
    if problem is not None and candidate == "rust":
        notes = (*notes, f"shadow candidate rust unavailable: {problem}")
    return Route(mode, primary, candidate, source, why, notes)  # type: ignore[arg-type]

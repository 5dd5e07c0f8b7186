"""Whether the kill switch is engaged right now, and which layer decided (DESIGN §8).

Precedence, first match wins:

1. ``env``: ``CODEANATOMY_KILL_SWITCH`` = ``legacy``, ``1``, ``true``, ``yes`` or ``on``
   (any case) engages. ``0``, ``false``, ``no``, ``off`` or empty does *not* release: it
   only means the environment has no say, so it can never override an engaged state file.
   Any other value engages with a ``KILLSWITCH_ENV_UNRECOGNIZED`` warning (fail safe: an
   operator who set the variable most likely meant to roll back).
2. ``state``: an engaged ``killswitch.json``. A corrupt or unreadable state file also
   engages, with a ``KILLSWITCH_STATE_CORRUPT`` warning (fail safe: we cannot prove nobody
   engaged it). ``killswitch release`` or ``engage`` rewrites it.
3. ``config``: ``[engine].kill_switch = true`` or ``"legacy"``.
4. ``default``: not engaged.

Every call reads the environment mapping and the state file afresh: no caching.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

import msgspec

from harness.config.load import LoadedConfig
from harness.killswitch.state import (
    KILLSWITCH_ENV_UNRECOGNIZED,
    KILLSWITCH_STATE_CORRUPT,
    KillSwitchState,
    read_state,
)

ENV_KILL_SWITCH: Final = "CODEANATOMY_KILL_SWITCH"
_ENGAGING: Final = frozenset({"legacy", "1", "true", "yes", "on"})
_NEUTRAL: Final = frozenset({"", "0", "false", "no", "off"})

Layer = Literal["env", "state", "config", "default"]


class KillSwitchWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A structured warning raised while deciding."""

    code: str
    message: str


class KillSwitchDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The effective position of the switch and the layer that set it."""

    engaged: bool
    source: Layer
    detail: str
    warnings: tuple[KillSwitchWarning, ...] = ()
    state: KillSwitchState | None = None


def effective_kill_switch(
    config: LoadedConfig, env: Mapping[str, str] = os.environ
) -> KillSwitchDecision:
    """Decide from the environment, the state file under ``config.state_dir`` and the config."""
    engaged, origin = config_layer(config)
    return decide(state_dir=config.state_dir, config_engaged=engaged, config_origin=origin, env=env)


def config_layer(config: LoadedConfig) -> tuple[bool, str]:
    """Whether the configuration engages the switch, and where that is written."""
    engine = config.config.engine
    where = f" in {config.file}" if config.file is not None else " (default)"
    return engine.kill_switch_engaged, f"[engine].kill_switch = {_toml(engine.kill_switch)}{where}"


def decide(
    *,
    state_dir: Path,
    config_engaged: bool | None,
    config_origin: str,
    env: Mapping[str, str],
) -> KillSwitchDecision:
    """The precedence itself; ``config_engaged`` is None when the config could not be loaded."""
    warnings: list[KillSwitchWarning] = []
    env_detail = _env_layer(env, warnings)
    read = read_state(state_dir)
    if read.problem is not None:
        warnings.append(
            KillSwitchWarning(
                code=KILLSWITCH_STATE_CORRUPT,
                message=f"{read.problem}; treated as engaged (fail safe)",
            )
        )

    def decision(engaged: bool, source: Layer, detail: str) -> KillSwitchDecision:
        return KillSwitchDecision(
            engaged=engaged,
            source=source,
            detail=detail,
            warnings=tuple(warnings),
            state=read.state,
        )

    if env_detail is not None:
        return decision(True, "env", env_detail)
    if read.problem is not None:
        return decision(True, "state", f"state file unusable, treated as engaged: {read.problem}")
    if read.state is not None and read.state.engaged:
        s = read.state
        return decision(True, "state", f"engaged by {s.actor} at {s.at}: {s.reason}")
    if config_engaged:
        return decision(True, "config", config_origin)
    if read.state is not None:
        s = read.state
        detail = f"released by {s.actor} at {s.at}" + (f": {s.reason}" if s.reason else "")
        return decision(False, "default", detail)
    return decision(False, "default", "never engaged")


def _env_layer(env: Mapping[str, str], warnings: list[KillSwitchWarning]) -> str | None:
    """The detail when the environment engages the switch, else None."""
    raw = env.get(ENV_KILL_SWITCH)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _NEUTRAL:
        return None
    detail = f"{ENV_KILL_SWITCH}={raw!r}"
    if value not in _ENGAGING:
        message = (
            f"{ENV_KILL_SWITCH}={raw!r} is not one of legacy, 1, true, yes, on, 0, false, no, "
            "off; treated as engaged (fail safe)"
        )
        warnings.append(KillSwitchWarning(code=KILLSWITCH_ENV_UNRECOGNIZED, message=message))
    return detail


def _toml(value: bool | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"'

"""The legacy ``[hamilton]`` section in today's keys: the mapping, pure (no file, no TOML).

The loader applies it to every load (with a ``CONFIG_HAMILTON_DEPRECATED`` warning) and the
rewriter (``harness.config.migrate``) applies it to the file; both ask :func:`map_hamilton`.

MAPPING (one row per legacy key; ``rank``: when several legacy keys feed one target, the
lowest rank wins, then the first in the file; a target already set in ``[engine]`` or
``[extract]`` always wins over any legacy key):

=================  ========================  ====  =============================================
[hamilton] key     becomes                   rank  value
=================  ========================  ====  =============================================
max_tasks          [extract].workers         0     integer >= 0, unchanged (0: one per core)
workers            [extract].workers         0     integer >= 0, unchanged
max_workers        [extract].workers         0     integer >= 0, unchanged
executor           [extract].workers         1     synchronous/local/sequential -> 1;
                                                   multiprocessing/multithreading/threadpool/
                                                   parallel -> 0 (one per core)
cache_path         [extract].cache           0     path string, unchanged
cache              [extract].cache           1     true / false / path string, unchanged
enable_shadow      [engine].shadow           0     boolean, unchanged
shadow             [engine].shadow           1     boolean, unchanged
timeout            [extract].file_timeout_s  0     number > 0, seconds
=================  ========================  ====  =============================================

Any other key (``outputs``, ``final_vars``, ``adapter``, ...) and any value the table cannot
convert is *dropped* with a ``CONFIG_HAMILTON_UNMAPPED`` warning; the rewrite keeps it as a
comment so nothing the user wrote silently disappears.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, NamedTuple

import msgspec

_SEQUENTIAL: Final = frozenset({"synchronous", "local", "sequential"})
_PARALLEL: Final = frozenset({"multiprocessing", "multithreading", "threadpool", "parallel"})


def _workers(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected an integer >= 0")
    return value


def _executor(value: object) -> object:
    name = value.lower() if isinstance(value, str) else None
    if name in _SEQUENTIAL:
        return 1
    if name in _PARALLEL:
        return 0
    known = ", ".join(sorted(_SEQUENTIAL | _PARALLEL))
    raise ValueError(f"executor {value!r} has no equivalent (known: {known})")


def _path(value: object) -> object:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty path string")
    return value


def _cache(value: object) -> object:
    return value if isinstance(value, bool) else _path(value)


def _bool(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _seconds(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("expected a number of seconds > 0")
    return float(value)


class Rule(NamedTuple):
    """Where one legacy key goes and how its value is converted (raises ValueError)."""

    section: str
    key: str
    rank: int
    convert: Callable[[object], object]


MAPPING: Final[Mapping[str, Rule]] = {
    "max_tasks": Rule("extract", "workers", 0, _workers),
    "workers": Rule("extract", "workers", 0, _workers),
    "max_workers": Rule("extract", "workers", 0, _workers),
    "executor": Rule("extract", "workers", 1, _executor),
    "cache_path": Rule("extract", "cache", 0, _path),
    "cache": Rule("extract", "cache", 1, _cache),
    "enable_shadow": Rule("engine", "shadow", 0, _bool),
    "shadow": Rule("engine", "shadow", 1, _bool),
    "timeout": Rule("extract", "file_timeout_s", 0, _seconds),
}

_NO_EQUIVALENT: Final[Mapping[str, str]] = {
    "outputs": "the outputs are fixed by CPG contract v1",
    "final_vars": "the outputs are fixed by CPG contract v1",
    "adapter": "Hamilton adapters do not exist outside the legacy backend",
    "graph_adapter": "Hamilton adapters do not exist outside the legacy backend",
    "modules": "Hamilton modules are internal to the legacy backend",
}


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    """A legacy key that becomes ``[section].key = value``."""

    source_key: str
    section: str
    key: str
    value: Any


class Dropped(msgspec.Struct, frozen=True, kw_only=True):
    """A legacy key that is ignored, and why."""

    source_key: str
    value: Any
    reason: str
    section: str | None = None


class HamiltonMapping(msgspec.Struct, frozen=True, kw_only=True):
    """What a ``[hamilton]`` table means in today's keys (computed once by ``map_hamilton``)."""

    assignments: tuple[Assignment, ...]
    dropped: tuple[Dropped, ...]


def map_hamilton(
    hamilton: Mapping[str, object], present: Mapping[str, Collection[str]]
) -> HamiltonMapping:
    """Map a legacy table; ``present`` names the keys already set per section in the file."""
    winners: dict[tuple[str, str], tuple[int, Assignment]] = {}
    dropped: list[Dropped] = []
    for source_key, value in hamilton.items():
        rule = MAPPING.get(source_key)
        if rule is None:
            reason = _NO_EQUIVALENT.get(source_key, "no equivalent in codeanatomy")
            dropped.append(Dropped(source_key=source_key, value=value, reason=reason))
            continue
        target = f"[{rule.section}].{rule.key}"
        try:
            converted = rule.convert(value)
        except ValueError as exc:
            dropped.append(_drop(source_key, value, f"invalid value: {exc}", rule))
            continue
        if rule.key in present.get(rule.section, ()):
            dropped.append(_drop(source_key, value, f"{target} is set in the file", rule))
            continue
        new = Assignment(source_key=source_key, section=rule.section, key=rule.key, value=converted)
        current = winners.get((rule.section, rule.key))
        if current is None or rule.rank < current[0]:
            if current is not None:
                loser = current[1]
                reason = f"superseded by [hamilton].{source_key}"
                dropped.append(_drop(loser.source_key, hamilton[loser.source_key], reason, rule))
            winners[(rule.section, rule.key)] = (rule.rank, new)
        else:
            reason = f"superseded by [hamilton].{current[1].source_key}"
            dropped.append(_drop(source_key, value, reason, rule))
    order = list(hamilton)
    assignments = sorted((a for _, a in winners.values()), key=lambda a: order.index(a.source_key))
    dropped.sort(key=lambda d: order.index(d.source_key))
    return HamiltonMapping(assignments=tuple(assignments), dropped=tuple(dropped))


def _drop(source_key: str, value: object, reason: str, rule: Rule) -> Dropped:
    return Dropped(source_key=source_key, value=value, reason=reason, section=rule.section)

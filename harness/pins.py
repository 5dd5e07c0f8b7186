"""Pins: the Delta versions that maintenance must keep readable, and the tables it maintains.

A version a ``run.json`` names (an input, an output, a ``version_before``) is pinned by the run;
the versions after a cursor of ``codeanatomy changes`` (``cursors/changes.json``,
``harness/run/cursor.py``) are pinned by the cursor, since the change data feed of each reads
their files. Pins are found in the nearest run folder holding a table (or the shadow root whose
shared ``evidence/`` its run reads), never in the folders around it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final, Literal

import msgspec

from harness.errors import UsageError
from harness.run.cursor import CURSOR_PATH, ChangesCursor

PINS_UNREADABLE: Final = "PINS_UNREADABLE"
CURSORS_FILE: Final = Path(CURSOR_PATH)
LOG_DIR: Final = "_delta_log"

PinKind = Literal["run", "cursor"]


class Pin(msgspec.Struct, frozen=True, kw_only=True, order=True):
    """A version that must stay readable, and who pins it (``run.json`` or a cursor)."""

    version: int
    kind: PinKind
    source: str
    """The pinning file relative to the maintained folder, and the role: ``run.json outputs``,
    ``legacy/run.json version_before``, ``cursors/changes.json``."""


def is_delta_table(path: Path) -> bool:
    """Whether ``path`` holds a Delta log."""
    return (path / LOG_DIR).is_dir()


def _walk(root: Path) -> Iterator[tuple[Path, list[str]]]:
    """Folders below ``root`` that are not inside a Delta table (a table's own folder is
    yielded with no names, so nobody looks into its data), with their file names."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if is_delta_table(here):
            dirs.clear()
            yield here, []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield here, files


def find_tables(root: Path) -> tuple[Path, ...]:
    """Every Delta table at or below ``root`` (nested tables are not searched), sorted."""
    return tuple(sorted(folder for folder, _ in _walk(root) if is_delta_table(folder)))


def relative_to(path: Path, root: Path) -> str:
    """``path`` as a POSIX path relative to ``root`` (``..`` where it lies outside)."""
    rel = os.path.relpath(path, root)
    return Path(rel).as_posix()


def _run_pins(run_json: Path, root: Path) -> Iterator[tuple[Path, Pin]]:
    from harness.run.manifest import Section, locate, read_manifest

    source = relative_to(run_json, root)
    try:
        manifest = read_manifest(run_json)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(
            PINS_UNREADABLE,
            f"{run_json}: cannot read the versions this run pins ({exc}); nothing was "
            "maintained, since vacuum could delete them",
        ) from exc
    run_dir = run_json.parent
    sections: tuple[Section, ...] = ("inputs", "outputs")
    for section in sections:
        for entry in getattr(manifest, section):
            table = locate(run_dir, section, entry).resolve()
            yield table, Pin(version=entry.delta_version, kind="run", source=f"{source} {section}")
            # ``version_before``: the version an incremental build started from.
            before = entry.version_before
            if isinstance(before, int) and before >= 0:
                yield table, Pin(version=before, kind="run", source=f"{source} version_before")


def _cursor_pins(cursor_file: Path, root: Path) -> Iterator[tuple[Path, Pin]]:
    """A cursor names an output table (``cpg_nodes``: ``RUN/outputs/cpg_nodes``, as
    ``harness/run/cursor.py`` defines it) or a path relative to the run folder; a name found
    in neither place pins every table of that name below the run folder."""
    run_dir = cursor_file.parent.parent
    source = relative_to(cursor_file, root)
    try:
        cursors = msgspec.json.decode(cursor_file.read_bytes(), type=ChangesCursor)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(
            PINS_UNREADABLE,
            f"{cursor_file}: cannot read the cursors ({exc}); nothing was maintained, "
            "since vacuum could delete the change data feed they read",
        ) from exc
    tables = find_tables(run_dir)
    for name, version in cursors.tables.items():
        exact = [p for p in (run_dir / "outputs" / name, run_dir / name) if is_delta_table(p)]
        matches = exact[:1] or [t for t in tables if t.name == name]
        for table in matches:
            yield table.resolve(), Pin(version=version, kind="cursor", source=source)


def collect_pins(root: Path, shown_from: Path | None = None) -> dict[Path, tuple[Pin, ...]]:
    """Every pin below ``root``: the versions each ``run.json`` names and every cursor of
    ``cursors/changes.json``, by resolved table path; each pin's source is relative to
    ``shown_from`` (default ``root``)."""
    pins: dict[Path, set[Pin]] = {}
    base = root if shown_from is None else shown_from
    for folder, files in _walk(root):
        found: list[tuple[Path, Pin]] = []
        if "run.json" in files:
            found.extend(_run_pins(folder / "run.json", base))
        if (folder / CURSORS_FILE).is_file():
            found.extend(_cursor_pins(folder / CURSORS_FILE, base))
        for table, pin in found:
            pins.setdefault(table, set()).add(pin)
    return {table: tuple(sorted(p)) for table, p in pins.items()}


def keep_versions(pins: Iterable[Pin], latest: int) -> tuple[int, ...]:
    """The versions vacuum must keep readable: each run pin, and for a cursor at ``c`` every
    version from ``c`` to ``latest`` (the change data feed after ``c`` reads their files)."""
    keep: set[int] = set()
    for pin in pins:
        if pin.kind == "cursor":
            keep.update(range(max(pin.version, 0), latest + 1))
        else:
            keep.add(pin.version)
    return tuple(sorted(v for v in keep if v <= latest))


def pin_root(path: Path) -> Path:
    """The folder whose runs and cursors may pin the tables at or below ``path``: the nearest
    run folder holding ``path`` (a table, its stage folder, the run folder itself), or the
    shadow root around it when its run reads the shared ``../evidence``; ``path`` itself
    when no run holds it. Never a folder above these: a plain run's parent is not searched."""
    uri = path.resolve()
    for folder in [uri, *uri.parents][: 4 if is_delta_table(uri) else 3]:
        if (folder / "run.json").is_file() or (folder / CURSORS_FILE).is_file():
            return folder.parent if _reads_parent(folder / "run.json") else folder
        if _is_shadow_root(folder):
            return folder
    return uri


def _reads_parent(run_json: Path) -> bool:
    """Whether the run names a table outside its folder (a shadow side's ``../evidence``)."""
    try:
        raw = msgspec.json.decode(run_json.read_bytes())
    except (OSError, msgspec.DecodeError):
        return False
    entries = [*(raw.get("inputs") or []), *(raw.get("outputs") or [])]
    return any(isinstance(e, dict) and str(e.get("path") or "").startswith("../") for e in entries)


def _is_shadow_root(folder: Path) -> bool:
    """A shadow folder: the shared ``evidence/`` beside a run folder per side, no run.json."""
    return (
        (folder / "evidence").is_dir()
        and not (folder / "run.json").is_file()
        and any(_reads_parent(side) for side in folder.glob("*/run.json"))
    )

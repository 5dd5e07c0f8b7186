"""Keep the candidate contained (:func:`run_candidate`).

While the candidate runs, the primary's run directory and the shared evidence are made
read-only, and their state is recorded before and compared after (permission bits stop no
root process: the comparison is the proof); a candidate's run is judged only on tables inside
its own run directory. A breach is a recorded fault and a failed candidate, never raised.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Final

from harness.run.manifest import (
    RunManifest,
    Section,
    TableEntry,
    locate,
    read_manifest,
    write_manifest,
)
from harness.shadow.candidate import ChildOutcome, failure, run_in_child
from harness.shadow.observation import HarnessFault
from harness.shadow.side import SidePlan

CANDIDATE_WROTE_PRIMARY: Final = "CANDIDATE_WROTE_PRIMARY"
CANDIDATE_FOREIGN_TABLE: Final = "CANDIDATE_FOREIGN_TABLE"

_State = dict[str, tuple[int, int, int]]


def _walk(root: Path) -> Iterator[Path]:
    """``root`` and everything below it, symbolic links listed but never followed."""
    if not os.path.lexists(root):
        return
    yield root
    if root.is_symlink() or not root.is_dir():
        return
    for folder, dirs, files in os.walk(root, followlinks=False, onerror=lambda _: None):
        for name in (*dirs, *files):
            yield Path(folder) / name


def tree_state(folders: Iterable[Path]) -> _State:
    """Kind, size and modification time of every entry below ``folders``, by path."""
    found: _State = {}
    for folder in folders:
        for path in _walk(folder):
            try:
                st = path.lstat()
            except OSError:
                continue
            found[str(path)] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns)
    return found


def _changes(before: _State, after: _State) -> list[str]:
    changed = [f"{p} (new)" for p in sorted(after.keys() - before.keys())]
    changed += [f"{p} (removed)" for p in sorted(before.keys() - after.keys())]
    changed += [f"{p} (modified)" for p in sorted(before) if p in after and before[p] != after[p]]
    return changed


@contextmanager
def read_only(folders: Iterable[Path]) -> Iterator[None]:
    """Remove every write bit below ``folders`` for the duration; restore the modes after.

    This stops an unprivileged candidate. As root (CAP_DAC_OVERRIDE) permission bits stop
    nothing: the state compared before and after the candidate's run is what proves that it
    did not write; this only makes the honest mistake fail early.
    """
    saved: list[tuple[Path, int]] = []
    try:
        for folder in folders:
            for path in _walk(folder):
                try:
                    mode = path.lstat().st_mode
                    if stat.S_ISLNK(mode):
                        continue
                    path.chmod(stat.S_IMODE(mode) & ~0o222)
                    saved.append((path, stat.S_IMODE(mode)))
                except OSError:
                    continue  # best effort; the state check after the run still applies
        yield
    finally:
        for path, mode in reversed(saved):
            with suppress(OSError):
                path.chmod(mode)


def _fault(code: str, problems: list[str]) -> HarnessFault:
    shown = "; ".join(problems[:5]) + (
        f"; ... {len(problems) - 5} more" if len(problems) > 5 else ""
    )
    return HarnessFault(where="containment", code=code, error=f"{code}: {shown}")


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _tables(manifest: RunManifest) -> Iterator[tuple[Section, TableEntry]]:
    for entry in manifest.inputs:
        yield "inputs", entry
    for entry in manifest.outputs:
        yield "outputs", entry


def foreign_tables(plan: SidePlan, sent: RunManifest) -> list[str]:
    """Tables the candidate's run would be judged on that are not its own.

    Outputs must lie inside the candidate's run directory; inputs there or in the shared
    evidence (semantics mode). Checked for the manifest it sent and for the ``run.json`` that
    the comparison reads, and no symbolic link below its run directory may lead out of it:
    otherwise the primary could be compared with itself and pass.
    """
    run_dir = Path(plan.run_dir).absolute()
    own = run_dir.parent.resolve() / run_dir.name
    if run_dir.is_symlink():
        return [f"{run_dir} is a symbolic link to {run_dir.resolve()}"]
    evidence = [Path(plan.evidence_dir).resolve()] if plan.evidence_dir else []
    problems: list[str] = []
    try:
        on_disk = read_manifest(run_dir / "run.json")
    except Exception as exc:  # a candidate-written file: anything may be wrong with it
        return [f"{run_dir / 'run.json'} unreadable: {type(exc).__name__}: {exc}"]
    if on_disk != sent:
        problems.append("run.json differs from the manifest the candidate reported")
    for manifest in (sent, on_disk):
        for section, entry in _tables(manifest):
            allowed = [own, *evidence] if section == "inputs" else [own]
            where = locate(run_dir, section, entry).resolve()
            if not _inside(where, allowed):
                problems.append(f"{section} {entry.table} at {where}")
    for path in _walk(own):
        if path.is_symlink() and not _inside(path.resolve(), [own]):
            problems.append(f"link {path} -> {path.resolve()}")
    return sorted(set(problems))


def primary_tampering(run_dir: Path, manifest: RunManifest) -> list[HarnessFault]:
    """After both sides ran: the primary's tables still end at the Delta versions its
    manifest pins, and its ``run.json`` is still the manifest it returned (restored if not:
    it is the primary's result, which the candidate does not get to change)."""
    try:
        problems = _tampering(run_dir, manifest)
    except Exception as exc:  # the check itself failed: recorded, never raised
        return [HarnessFault(where="containment", error=f"{type(exc).__name__}: {exc}")]
    return [_fault(CANDIDATE_WROTE_PRIMARY, problems)] if problems else []


def _tampering(run_dir: Path, manifest: RunManifest) -> list[str]:
    from harness.compare.tables import latest_version

    problems: list[str] = []
    for section, entry in _tables(manifest):
        latest = latest_version(locate(run_dir, section, entry))
        if latest != entry.delta_version:
            problems.append(
                f"{section} {entry.table} at version {latest}, run.json pins {entry.delta_version}"
            )
    path = run_dir / "run.json"
    try:
        intact = read_manifest(path) == manifest
    except Exception:  # unreadable or gone: rewritten below either way
        intact = False
    if not intact:
        problems.append(f"{path} was changed (restored)")
        write_manifest(path, manifest)
    return problems


def guarded_folders(primary: SidePlan) -> list[Path]:
    """What the candidate must not write: the primary's run directory and shared evidence."""
    folders = [Path(primary.run_dir)]
    if primary.evidence_dir is not None:
        folders.append(Path(primary.evidence_dir))
    return folders


def run_candidate(
    plan: SidePlan, primary: SidePlan, timeout_s: float
) -> tuple[ChildOutcome, list[HarnessFault]]:
    """Run the candidate contained: the primary's folders read-only while it runs and
    unchanged after it ran, its tables its own. A breach is a recorded fault and a failed
    candidate (its run is not compared); the primary's result is untouched."""
    guarded = guarded_folders(primary)
    faults: list[HarnessFault] = []
    child: ChildOutcome | None = None
    try:
        # Made now even when the primary runs second, so that it is guarded in either order.
        guarded[0].mkdir(parents=True, exist_ok=True)
        before = tree_state(guarded)
        with read_only(guarded):
            child = run_in_child(plan, timeout_s)
        changed = _changes(before, tree_state(guarded))
        if changed:
            faults.append(_fault(CANDIDATE_WROTE_PRIMARY, changed))
        if child.manifest is not None:
            foreign = foreign_tables(plan, child.manifest)
            if foreign:
                faults.append(_fault(CANDIDATE_FOREIGN_TABLE, foreign))
    except Exception as exc:  # the guard itself failed: recorded, and the candidate not trusted
        faults.append(HarnessFault(where="containment", error=f"{type(exc).__name__}: {exc}"))
        if child is None:
            child = failure("CANDIDATE_HARNESS_FAILED", f"{type(exc).__name__}: {exc}")
    if faults and child.manifest is not None:
        code = faults[0].code or "CANDIDATE_HARNESS_FAILED"
        child = replace(child, manifest=None, error={"code": code, "message": faults[0].error})
    return child, faults

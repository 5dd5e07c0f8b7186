"""The deletion preflight scanner (DESIGN §8): one function, :func:`scan`, returns the report.

Static only: Python files are parsed with :mod:`ast`, configuration with :mod:`tomllib`, CI
files by token; nothing of the scanned project is ever imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from backends.extract.repo_scan import resolve_link
from backends.extract.source import (
    DecodeFailure,
    FileTooLarge,
    NotRegularFile,
    decode_source,
    read_regular_file,
)
from harness.preflight.ci_refs import NOTE as CI_NOTE
from harness.preflight.ci_refs import ci_files, scan_ci_file
from harness.preflight.config_refs import scan_requirements, scan_toml
from harness.preflight.graph import ImportGraph, legacy_target
from harness.preflight.hints import import_hint, transitive_hint
from harness.preflight.imports import ImportRef, find_imports
from harness.preflight.layout import Layout, PyFile, discover, in_allow
from harness.preflight.report import (
    SCHEMA_VERSION,
    Blocker,
    PreflightReport,
    Problem,
    blocker_sort_key,
    problem_sort_key,
)
from harness.preflight.stack import DEFAULT_ALLOW

_CONFIG_NOTE = (
    "Configuration is read from pyproject.toml, codeanatomy.toml and requirements*.txt at the "
    "scan root; lock files are derived from pyproject.toml and are not read."
)


def _parse(root: Path, file: PyFile) -> tuple[ast.Module | None, Problem | None]:
    """The syntax tree of a file, or the problem that prevents reading it."""
    blocking = not file.deleted  # a file that is being deleted cannot block its own deletion
    path = root / file.rel
    if path.is_symlink():
        _, link_problem = resolve_link(path, root)
        if link_problem is not None:
            # A link out of the project (passwd.py -> /etc/passwd) or a loop: never read, as
            # in extraction; it holds none of the project's code.
            return None, Problem(
                path=file.rel,
                line=None,
                kind=link_problem,  # type: ignore[arg-type]
                message="a link out of the project or a loop: not read",
                blocking=False,
            )
    try:
        text = decode_source(read_regular_file(path)).text
    except NotRegularFile as exc:
        # A FIFO or device named *.py holds no code (and reading it would block forever).
        return None, Problem(
            path=file.rel, line=None, kind="not_regular_file", message=str(exc), blocking=False
        )
    except FileTooLarge as exc:
        # Not read, so it may hide an import: the gate fails closed, as for unreadable files.
        return None, Problem(
            path=file.rel, line=None, kind="too_large", message=str(exc), blocking=blocking
        )
    except OSError as exc:
        return None, Problem(
            path=file.rel, line=None, kind="unreadable", message=str(exc), blocking=blocking
        )
    except DecodeFailure as exc:
        return None, Problem(
            path=file.rel, line=None, kind="decode_error", message=exc.message, blocking=blocking
        )
    try:
        return ast.parse(text, filename=file.rel), None
    except SyntaxError as exc:
        message = f"not parsable, imports not checked: {exc.msg}"
        return None, Problem(
            path=file.rel, line=exc.lineno, kind="parse_error", message=message, blocking=blocking
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        message = f"not parsable, imports not checked: {type(exc).__name__}"
        return None, Problem(
            path=file.rel, line=None, kind="parse_error", message=message, blocking=blocking
        )


class _ImportScan:
    """Direct blockers and the import graph of every Python file, then transitive blockers."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.graph = ImportGraph()
        self.deleted = {f.rel: f.module or f.rel for f in layout.python_files if f.deleted}
        self.direct: list[tuple[PyFile, ImportRef, str, str]] = []  # file, ref, target, node
        self.problems: list[Problem] = []

    def read(self) -> None:
        for file in self.layout.python_files:
            tree, problem = _parse(self.layout.root, file)
            if problem is not None:
                self.problems.append(problem)
            if tree is None:
                continue
            refs, unresolved = find_imports(tree, file.module, file.is_package)
            for ref in refs:
                self.graph.add(file.rel, ref, self.layout.modules)
            if file.deleted:
                continue
            self.problems += [
                Problem(path=file.rel, line=u.line, kind=u.kind, message=u.message, blocking=False)
                for u in unresolved
            ]
            for ref in refs:
                hit = legacy_target(ref, self.layout.modules, self.deleted)
                if hit is not None:
                    self.direct.append((file, ref, *hit))

    def blockers(self) -> list[Blocker]:
        files = {f.rel for f in self.layout.python_files}
        virtual = {t for out in self.graph.edges.values() for t in out if t not in files}
        reach_any = self.graph.distances(virtual | set(self.deleted))
        reach_external = self.graph.distances(virtual)

        def onward(node: str) -> list[str]:
            # Past a deleted file, show what it reaches outside the project (the real cause).
            if reach_external.get(node, 0) == 0:
                return []
            return self.graph.chain(node, reach_external)[1:]

        found: list[Blocker] = []
        for file, ref, target, node in self.direct:
            found.append(
                Blocker(
                    path=file.rel,
                    line=ref.line,
                    col=ref.col,
                    kind=ref.kind,
                    target=target,
                    chain=(file.rel, node, *onward(node)),
                    category=file.category,
                    hint=import_hint(target, file.category),
                )
            )
        blocked = {file.rel for file, *_ in self.direct}
        for file in self.layout.python_files:
            if file.deleted or file.rel in blocked or reach_any.get(file.rel, 0) == 0:
                continue
            path = self.graph.chain(file.rel, reach_any)
            entry = path[-1]
            target = self.deleted.get(entry, entry)
            line, col = self.graph.location(path[0], path[1])
            found.append(
                Blocker(
                    path=file.rel,
                    line=line,
                    col=col,
                    kind="transitive",
                    target=target,
                    chain=(*path, *onward(entry)),
                    category=file.category,
                    hint=transitive_hint(path[1], target, file.category),
                )
            )
        return found


def _text_files(root: Path) -> tuple[list[Blocker], list[Problem], int]:
    """Blockers in configuration and CI files, their problems, and how many files were read."""
    blockers: list[Blocker] = []
    problems: list[Problem] = []
    count = 0
    scans = [(scan_toml, rel) for rel in ("pyproject.toml", "codeanatomy.toml")]
    requirements = sorted({*root.glob("requirements*.txt"), *root.glob("requirements/*.txt")})
    scans += [(scan_requirements, p.relative_to(root).as_posix()) for p in requirements]
    scans += [(scan_ci_file, rel) for rel in ci_files(root)]
    for scanner, rel in scans:
        if (root / rel).is_file():
            count += 1
            more_blockers, more_problems = scanner(root, rel)
            blockers += more_blockers
            problems += more_problems
    return blockers, problems, count


def scan(root: Path, *, allow: Sequence[str] = DEFAULT_ALLOW) -> PreflightReport:
    """Scan the project at ``root`` for everything that blocks deleting the legacy stack.

    ``allow`` lists the paths scheduled for deletion (folders end with ``/``); it replaces the
    default. Raises :class:`NotADirectoryError` when ``root`` is not a directory and
    :class:`~harness.preflight.layout.AllowListError` for an allow entry outside the project.
    """
    root = root.resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"not a directory: {root}")
    layout = discover(root, allow)
    imports = _ImportScan(layout)
    imports.read()
    text_blockers, text_problems, text_count = _text_files(root)
    key_entries = [e for e in layout.allow if "#" in e]
    used_keys: set[str] = set()
    blockers = []
    for b in (*imports.blockers(), *text_blockers):
        if in_allow(b.path, layout.allow):
            continue
        matched = [e for e in key_entries if _key_allowed(b, e)]
        if matched:
            used_keys.update(matched)
            continue
        blockers.append(b)
    problems = [*imports.problems, *text_problems]
    deletion = tuple(sorted((*layout.deletion_set, *used_keys)))
    empty = [e for e in layout.allow if not _covers_any(e, deletion)]
    notes = (
        CI_NOTE,
        _CONFIG_NOTE,
        *(f"allow-list entry {e} matches no file: nothing there to delete" for e in empty),
    )
    return PreflightReport(
        schema_version=SCHEMA_VERSION,
        root=str(root),
        allow=layout.allow,
        deletion_set=deletion,
        blockers=tuple(sorted(blockers, key=blocker_sort_key)),
        problems=tuple(sorted(problems, key=problem_sort_key)),
        files_scanned=len(layout.python_files) + text_count,
        notes=notes,
        ok=not blockers and not any(p.blocking for p in problems),
    )


def _key_allowed(blocker: Blocker, entry: str) -> bool:
    """True when a configuration blocker lies in the allow-listed ``FILE#dotted.key`` table."""
    path, _, key = entry.partition("#")
    found = blocker.key
    return (
        blocker.path == path and found is not None and (found == key or found.startswith(key + "."))
    )


def _covers_any(entry: str, paths: Sequence[str]) -> bool:
    """True when some path lies under (or is) the allow-list entry."""
    return any(in_allow(p, (entry,)) for p in paths)

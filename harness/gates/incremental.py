"""The incremental gate (issue 14 part 4): an incremental build equals a build from scratch.

For each repository: copy it into the gate's work folder (the user's repository is never
touched, and its code is never imported or run), build the copy once (state 0) into one run
folder ``inc/`` with a private, warm extraction cache, then apply a scripted edit sequence.
After each edit the copy is built again into ``inc/`` (an incremental build: same folder,
caches warm) and from scratch into ``fresh/<step>/`` (no cache), and the two runs are
compared stage by stage (evidence, views, outputs) and judged by the parity Result
(:mod:`harness.compare.incremental`, shared with ``shadow --incremental``). Any difference fails
the step, naming the table and its first differing keys; a comparison over nothing fails. The
one exception is the difference CONTRACT §5.7 allows a rebuild from the per-file scip cache
(external ``local N`` symbol rows), reported in the step's detail.

The edit sequence is derived from the repository's own text (``ast`` parse only, sorted
paths, no randomness):

- ``add_module``: a new module that imports an existing module and calls one of its functions;
- ``change_file``: a function and a call to it appended to a file (one other files import);
- ``rename_leaf``: a module that no file imports, renamed;
- ``delete_file``: a file deleted (preferably one other files import);
- ``import_resolution``: B does ``from A import f``; ``f`` is renamed in A (or, when A only
  re-exports ``f``, A gets its own ``f``), so B's resolution changes while B's text does not.

Targets are chosen once on the unedited copy so that no edit undoes another's premise; an edit
that cannot apply to the repository is reported as skipped with its reason, and a repository
where every edit is skipped (for example one without a Python file) is not evaluated: a failed
check, never a pass.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from backends.extract.imports import absolute_module
from backends.extract.repo_scan import SKIP_DIRS, module_name, source_roots
from harness.compare.incremental import (
    ACCEPTED_CODES,
    INCREMENTAL_POLICY,
    MAX_KEYS,
    StepRecord,
    TableDifference,
    compare_step,
    describe_differences,
    scip_cache_exception,
    step_differences,
    step_record,
)
from harness.errors import BackendUnavailable, EngineFailure
from harness.gates.verdict import Check, GateVerdict, make_verdict

__all__ = [
    "ACCEPTED_CODES",
    "EDIT_KINDS",
    "INCREMENTAL_POLICY",
    "MARK",
    "MAX_KEYS",
    "Build",
    "Change",
    "Edit",
    "Skipped",
    "StepRecord",
    "TableDifference",
    "apply_change",
    "change_for",
    "checks_for",
    "compare_step",
    "copy_repo",
    "describe_differences",
    "plan_edits",
    "read_repo",
    "run_incremental",
    "run_repo",
    "scip_cache_exception",
    "step_differences",
]

EDIT_KINDS: tuple[str, ...] = (
    "add_module",
    "change_file",
    "rename_leaf",
    "delete_file",
    "import_resolution",
)
MARK = "_ca_incremental"
"""Prefix of every name the edits introduce (files, functions)."""


# ---------------------------------------------------------------------------------------------
# The repository as text


@dataclass(frozen=True)
class Source:
    """One Python file of the copy: its module name and its parse (None: does not parse)."""

    rel: str
    module: str | None
    is_package: bool
    text: str
    tree: ast.Module | None


@dataclass(frozen=True)
class RepoText:
    """The Python files of a repository and who imports whom, from a plain ``ast`` parse."""

    root: Path
    files: dict[str, Source]
    by_module: dict[str, str]
    imports: dict[str, tuple[str, ...]]
    """rel -> the repository files it imports (sorted, itself excluded)."""
    importers: dict[str, tuple[str, ...]]
    """rel -> the repository files that import it (sorted)."""

    def imported(self, rel: str) -> bool:
        return bool(self.importers.get(rel))


def python_files(root: Path) -> list[str]:
    """Repo-relative POSIX paths of the ``.py`` files under ``root``, sorted; the folders the
    scan skips (VCS, virtualenvs, caches, hidden ones) left out; symlinks not followed."""
    found: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        base = Path(folder)
        for name in names:
            path = base / name
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def _parse(text: str, rel: str) -> ast.Module | None:
    """The parse of one file; None when it does not parse, including a file too deep for
    CPython's ast construction (RecursionError, MemoryError: the hostile golden repo's
    ``long_chain.py``), as the extractors report it."""
    try:
        return ast.parse(text, filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _imported_modules(src: Source, known: dict[str, str]) -> set[str]:
    """The absolute module names ``src`` imports that are files of the repository (packages
    whose ``__init__`` an import runs included)."""
    if src.tree is None:
        return set()
    names: set[str] = set()
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = absolute_module(src.module, src.is_package, node.module, node.level)
            if base is None:
                continue
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in known:
                found.add(prefix)
    return found


def read_repo(root: Path) -> RepoText:
    """Parse every Python file of ``root`` (text only: nothing is imported or run)."""
    rels = python_files(root)
    roots = source_roots(root, rels)
    files: dict[str, Source] = {}
    by_module: dict[str, str] = {}
    for rel in rels:
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        module, is_package, _ = module_name(rel, roots)
        files[rel] = Source(rel, module, is_package, text, _parse(text, rel))
        if module is not None:
            by_module.setdefault(module, rel)
    imports: dict[str, tuple[str, ...]] = {}
    importers: dict[str, set[str]] = {rel: set() for rel in rels}
    for rel, src in files.items():
        targets = {by_module[m] for m in _imported_modules(src, by_module)} - {rel}
        imports[rel] = tuple(sorted(targets))
        for target in targets:
            importers[target].add(rel)
    return RepoText(
        root=root,
        files=files,
        by_module=by_module,
        imports=imports,
        importers={k: tuple(sorted(v)) for k, v in importers.items()},
    )


def _top_level(tree: ast.Module) -> dict[str, ast.stmt]:
    """Names a module defines at top level with ``def``/``class`` (first definition wins)."""
    out: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.setdefault(node.name, node)
    return out


def _imported_names(tree: ast.Module) -> set[str]:
    """Names a module binds at top level with an import (what it may re-export)."""
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return out


# ---------------------------------------------------------------------------------------------
# The edit sequence


@dataclass(frozen=True)
class Edit:
    """One scripted edit, its targets chosen on the unedited repository."""

    kind: str
    description: str
    target: str
    """The file the edit changes, adds or removes (repo-relative)."""
    other: str = ""
    """add_module: the imported file; import_resolution: B, the importer; rename_leaf: the
    new path."""
    name: str = ""
    """add_module: the function called; import_resolution: the name B imports from A."""


@dataclass(frozen=True)
class Skipped:
    """An edit that cannot apply to this repository, and why."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Change:
    """What applying an edit does to the files: texts written, paths removed."""

    write: dict[str, str] = field(default_factory=dict)
    remove: tuple[str, ...] = ()


def _free(repo: RepoText, wanted: str) -> str:
    """``wanted`` (a repo-relative .py path), or it with a number, so that no file exists."""
    stem = wanted.removesuffix(".py")
    candidate, n = wanted, 2
    while candidate in repo.files or (repo.root / candidate).exists():
        candidate, n = f"{stem}_{n}.py", n + 1
    return candidate


def _is_init(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1] == "__init__.py"


def _usable(src: Source) -> bool:
    return src.tree is not None and src.module is not None


def _plan_resolution(repo: RepoText) -> Edit | Skipped:
    """B does ``from A import f`` (both files of the repo): rename ``f`` in A, or give A its
    own ``f`` when A only re-exports it."""
    renames: list[tuple[str, int, str, str]] = []
    shadows: list[tuple[str, int, str, str]] = []
    for b_rel, b in sorted(repo.files.items()):
        if b.tree is None:
            continue
        for node in ast.walk(b.tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            module = absolute_module(b.module, b.is_package, node.module, node.level)
            a_rel = repo.by_module.get(module or "")
            if a_rel is None or a_rel == b_rel:
                continue
            a = repo.files[a_rel]
            if a.tree is None:
                continue
            defined, bound = _top_level(a.tree), _imported_names(a.tree)
            for alias in node.names:
                if alias.name in defined:
                    renames.append((b_rel, node.lineno, a_rel, alias.name))
                elif alias.name in bound:
                    shadows.append((b_rel, node.lineno, a_rel, alias.name))
    # A B that other files import first: the leaves stay free for rename_leaf.
    renames.sort(key=lambda c: (not repo.imported(c[0]), c))
    shadows.sort(key=lambda c: (not repo.imported(c[0]), c))
    if renames:
        b_rel, _, a_rel, name = renames[0]
        return Edit(
            "import_resolution",
            f"{b_rel} does `from ... import {name}`: {name} renamed in {a_rel}",
            target=a_rel,
            other=b_rel,
            name=name,
        )
    if shadows:
        b_rel, _, a_rel, name = shadows[0]
        return Edit(
            "import_resolution",
            f"{b_rel} imports {name} that {a_rel} re-exports: {a_rel} defines its own {name}",
            target=a_rel,
            other=b_rel,
            name=name,
        )
    return Skipped(
        "import_resolution",
        "no file does `from A import f` with A a file of the repository that defines or "
        "re-exports f",
    )


def _required_args(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """Placeholder arguments for a call of ``node``: None for each required parameter."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    required = positional[: len(positional) - len(args.defaults)]
    parts = ["None" for _ in required]
    parts += [
        f"{a.arg}=None"
        for a, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        if default is None
    ]
    return ", ".join(parts)


def plan_edits(root: Path) -> list[Edit | Skipped]:
    """The scripted edit sequence for the repository at ``root``, in :data:`EDIT_KINDS`
    order: one :class:`Edit` or :class:`Skipped` per kind. Deterministic (sorted paths)."""
    repo = read_repo(root)
    usable = sorted(rel for rel, src in repo.files.items() if _usable(src))
    if not repo.files:
        reason = "the repository has no Python file"
        return [Skipped(kind, reason) for kind in EDIT_KINDS]
    if not usable:
        reason = "no Python file of the repository parses and has a module name"
        return [Skipped(kind, reason) for kind in EDIT_KINDS]

    # The most constrained edit chooses first; later choices keep clear of what it needs.
    resolution = _plan_resolution(repo)
    keep: set[str] = set()
    if isinstance(resolution, Edit):
        keep = {resolution.target, resolution.other}

    leaves = [
        rel for rel in usable if not repo.imported(rel) and not _is_init(rel) and rel not in keep
    ]
    rename: Edit | Skipped
    if leaves:
        leaf = leaves[0]
        new = _free(repo, leaf.removesuffix(".py") + "_renamed.py")
        rename = Edit("rename_leaf", f"{leaf} (imported by no file) renamed to {new}", leaf, new)
        keep.add(leaf)
    else:
        rename = Skipped("rename_leaf", "every module is imported by another file")

    deletable = [rel for rel in usable if not _is_init(rel) and rel not in keep]
    delete: Edit | Skipped
    if deletable:
        imported = [rel for rel in deletable if repo.imported(rel)]
        gone = (imported or deletable)[0]
        who = ", ".join(repo.importers[gone]) or "no file"
        delete = Edit("delete_file", f"{gone} deleted (imported by {who})", gone)
        keep.add(gone)
    else:
        delete = Skipped("delete_file", "no module is left to delete by the other edits")

    removed = {e.target for e in (rename, delete) if isinstance(e, Edit)}
    add: Edit | Skipped = Skipped(
        "add_module", "no module of the repository defines a top-level function to call"
    )
    roots = source_roots(root, list(repo.files))
    for rel in usable:
        tree = repo.files[rel].tree
        if rel in removed or tree is None:
            continue
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        if functions:
            module = repo.files[rel].module or ""
            base = next(r for r in roots if rel.startswith(r))
            new = _free(repo, f"{base}{MARK}_added.py")
            add = Edit(
                "add_module",
                f"{new} added: imports {module} ({rel}) and calls {functions[0].name}()",
                target=new,
                other=rel,
                name=functions[0].name,
            )
            break

    changeable = [rel for rel in usable if rel not in removed]
    change: Edit | Skipped
    if changeable:
        preferred = [r for r in changeable if repo.imported(r) and r not in keep]
        target = (preferred or [r for r in changeable if r not in keep] or changeable)[0]
        change = Edit(
            "change_file", f"{target}: a function and a call to it appended", target=target
        )
    else:
        change = Skipped("change_file", "no module is left to change by the other edits")
    return [add, change, rename, delete, resolution]


def _rename_definition(text: str, node: ast.stmt, old: str, new: str) -> str | None:
    lines = text.splitlines(keepends=True)
    i = node.lineno - 1
    pattern = re.compile(rf"\b(def|class)(\s+){re.escape(old)}\b")
    replaced, n = pattern.subn(rf"\g<1>\g<2>{new}", lines[i], count=1)
    if not n:
        return None
    lines[i] = replaced
    return "".join(lines)


def _appended(text: str, addition: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "\n\n" + addition


def change_for(edit: Edit, root: Path) -> Change | Skipped:
    """What ``edit`` writes and removes, computed from the files as they are now (earlier
    edits applied); Skipped when its premise no longer holds."""
    repo = read_repo(root)
    src = repo.files.get(edit.target)
    if edit.kind == "add_module":
        imported = repo.files.get(edit.other)
        if imported is None or imported.tree is None or imported.module is None:
            return Skipped(edit.kind, f"{edit.other} is gone or does not parse")
        node = _top_level(imported.tree).get(edit.name)
        if not isinstance(node, ast.FunctionDef):
            return Skipped(edit.kind, f"{edit.other} no longer defines {edit.name}()")
        text = (
            f'"""Added by the incremental gate: imports {imported.module} and calls '
            f'{edit.name}()."""\n\nfrom {imported.module} import {edit.name}\n\n\n'
            f"def {MARK}_use():\n    return {edit.name}({_required_args(node)})\n"
        )
        return Change(write={edit.target: text})
    if src is None:
        return Skipped(edit.kind, f"{edit.target} is gone")
    if edit.kind == "change_file":
        addition = (
            f"def {MARK}_helper():\n    return 1\n\n\n"
            f"def {MARK}_caller():\n    return {MARK}_helper()\n"
        )
        return Change(write={edit.target: _appended(src.text, addition)})
    if edit.kind == "rename_leaf":
        return Change(write={edit.other: src.text}, remove=(edit.target,))
    if edit.kind == "delete_file":
        return Change(remove=(edit.target,))
    if edit.kind == "import_resolution":
        if src.tree is None:
            return Skipped(edit.kind, f"{edit.target} does not parse")
        node = _top_level(src.tree).get(edit.name)
        if node is not None:
            renamed = _rename_definition(src.text, node, edit.name, f"{edit.name}{MARK}")
            if renamed is None:
                return Skipped(edit.kind, f"the definition of {edit.name} is not on its line")
            return Change(write={edit.target: renamed})
        shadow = f"def {edit.name}(*args, **kwargs):\n    return None\n"
        return Change(write={edit.target: _appended(src.text, shadow)})
    raise ValueError(f"unknown edit kind {edit.kind!r}")


def apply_change(root: Path, change: Change) -> None:
    """Write ``change`` into the copy at ``root``."""
    for rel, text in sorted(change.write.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for rel in change.remove:
        (root / rel).unlink()


def copy_repo(repo: Path, dest: Path) -> Path:
    """A copy of ``repo`` at ``dest`` (replaced if present) without VCS folders; symlinks are
    copied as links (never followed out of the repository)."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(repo, dest, symlinks=True, ignore=shutil.ignore_patterns(".git", ".hg", ".svn"))
    return dest


# ---------------------------------------------------------------------------------------------
# The gate


Build = Callable[[Path, Path, bool], object]
"""build(repo, out, cached): one build of ``repo`` into ``out``, with the warm cache or none."""


def _step_name(index: int, kind: str) -> str:
    return f"{index}-{kind}"


def run_repo(repo: Path, work: Path, build: Build) -> list[StepRecord]:
    """The whole edit sequence on a copy of ``repo`` under ``work``; one record per edit."""
    copy = copy_repo(repo, work / "repo")
    plan = plan_edits(copy)
    records: list[StepRecord] = []
    inc = work / "inc"
    if not any(isinstance(p, Edit) for p in plan):
        return [
            StepRecord(
                step=_step_name(i, p.kind),
                kind=p.kind,
                description="",
                status="skipped",
                detail=p.reason if isinstance(p, Skipped) else "",
            )
            for i, p in enumerate(plan, 1)
        ]
    try:
        build(copy, inc, True)
    except (EngineFailure, BackendUnavailable) as exc:
        return [
            StepRecord(
                step="0-initial",
                kind="initial",
                description="state 0 built into the incremental run folder",
                status="error",
                detail=f"state 0 build failed: {exc}",
            )
        ]
    for i, planned in enumerate(plan, 1):
        name = _step_name(i, planned.kind)
        if isinstance(planned, Skipped):
            records.append(
                StepRecord(
                    step=name,
                    kind=planned.kind,
                    description="",
                    status="skipped",
                    detail=planned.reason,
                )
            )
            continue
        change = change_for(planned, copy)
        if isinstance(change, Skipped):
            records.append(
                StepRecord(
                    step=name,
                    kind=planned.kind,
                    description=planned.description,
                    status="skipped",
                    detail=change.reason,
                )
            )
            continue
        apply_change(copy, change)
        fresh = work / "fresh" / name
        if fresh.exists():
            shutil.rmtree(fresh)
        try:
            build(copy, inc, True)
            build(copy, fresh, False)
            result, compared, differences, exception = compare_step(
                inc, fresh, f"{repo.name}:{name}"
            )
        except (EngineFailure, BackendUnavailable) as exc:
            records.append(
                StepRecord(
                    step=name,
                    kind=planned.kind,
                    description=planned.description,
                    status="error",
                    detail=f"build or comparison failed: {exc}",
                    incremental=str(inc),
                    fresh=str(fresh),
                )
            )
            continue
        record = step_record(
            name,
            planned.kind,
            planned.description,
            (inc, fresh),
            (result, compared, differences, exception),
        )
        records.append(record)
        if record.status != "pass":
            # Later steps would compare on top of a run already known to differ.
            records += [
                StepRecord(
                    step=_step_name(j, p.kind),
                    kind=p.kind,
                    description=p.description if isinstance(p, Edit) else "",
                    status="not_run",
                    detail=f"not run: step {name} failed",
                )
                for j, p in enumerate(plan[i:], i + 1)
            ]
            break
    return records


def checks_for(name: str, records: list[StepRecord]) -> list[Check]:
    """One check per step (a skipped edit passes, saying so) and one that at least one edit
    was applied and compared (a repository where nothing applied is not evaluated)."""
    checks = []
    for r in records:
        what = f"{r.description}: " if r.description else ""
        if r.status == "skipped":
            detail = f"skipped (not evaluated): {what}{r.detail}"
        else:
            detail = f"{what}{r.detail}"
        checks.append(
            Check(name=f"{name}/{r.step}", passed=r.status in ("pass", "skipped"), detail=detail)
        )
    applied = [r for r in records if r.status not in ("skipped", "not_run")]
    evaluated = [r for r in records if r.status == "pass"]
    if not applied:
        reasons = "; ".join(sorted({r.detail for r in records})) or "no edit planned"
        checks.append(
            Check(
                name=f"{name}/evaluated",
                passed=False,
                detail=f"not evaluated: every edit was skipped ({reasons})",
            )
        )
    else:
        checks.append(
            Check(
                name=f"{name}/evaluated",
                passed=bool(evaluated),
                detail=f"{len(applied)} edits applied, {len(evaluated)} identical, "
                f"{sum(r.status == 'skipped' for r in records)} skipped",
            )
        )
    return checks


def write_records(path: Path, records: list[StepRecord]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(records)) + b"\n")
    return path


def run_incremental(
    repos: Iterable[Path], work: Path, build_for: Callable[[Path], Build], backend: str
) -> GateVerdict:
    """The gate over ``repos``; ``build_for(cache_dir)`` gives the build function of one
    repository (its warm cache in ``cache_dir``)."""
    checks: list[Check] = []
    evidence: dict[str, str] = {}
    applied = identical = excepted = 0
    chosen = list(repos)
    for repo in chosen:
        name = repo.resolve().name
        base = work / name
        records = run_repo(repo, base, build_for(base / "cache"))
        checks += checks_for(name, records)
        evidence[name] = str(write_records(base / "steps.json", records))
        applied += sum(r.status not in ("skipped", "not_run") for r in records)
        identical += sum(r.status == "pass" for r in records)
        excepted += sum(r.exception is not None for r in records)
    if not chosen:
        checks.append(Check(name="repos", passed=False, detail="no repository was given"))
    summary = (
        f"incremental vs fresh builds ({backend}) over {len(chosen)} repos: "
        f"{applied} edits applied, {identical} identical"
        + (f" ({excepted} but for the scip cache's CONTRACT §5.7 rows)" if excepted else "")
    )
    return make_verdict("incremental", checks, summary, evidence)

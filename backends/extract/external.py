"""Stage 0, last barrier: ``python_external`` classifies every import that leaves the repo.

stdlib: the top-level name is in ``sys.stdlib_module_names`` of the analysing interpreter.
third_party: the top-level name is provided by an installed distribution
(``importlib.metadata.packages_distributions()`` reads metadata files only), or is declared as
a dependency by the repository itself (pyproject.toml and requirements*.txt at its root, read
as text; setup.cfg and setup.py are not read). Otherwise: unresolved. Nothing is imported.

The repository's metadata is data, never trusted: a file that is not a regular file, too
large, not UTF-8, not TOML, nested beyond the parser's recursion limit or of an unexpected
shape (``project = "x"``, ``dependencies = 3``) yields an ``EXTERNAL_METADATA_INVALID``
warning (path ``""``: it is about the repository) and the declarations that are well formed.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from contextlib import suppress
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from backends.extract.requirements import requirement_lines, requirement_name
from backends.extract.result import FileWarning
from backends.extract.source import DEFAULT_MAX_FILE_BYTES, read_regular_file

if TYPE_CHECKING:
    from backends.extract.cache import ResultCache

NAME = "python_external"
VERSION = "1"

_SPAN = ("bstart", "bend", "line", "col", "end_line", "end_col")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def installed_top_levels() -> dict[str, tuple[str, str]]:
    """top-level import name -> (distribution, version), from installed metadata only."""
    out: dict[str, tuple[str, str]] = {}
    for top, dists in sorted(metadata.packages_distributions().items()):
        dist = sorted(dists)[0]
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        out[top] = (dist, version)
    return out


# The cache's "extractor" folder of the installed-distributions map (one entry per environment).
_ENVIRONMENT = "python_external.environment"
_installed_type = dict[str, tuple[str, str]]


def environment_key() -> str:
    """What :func:`installed_top_levels` depends on: the interpreter and, for every
    ``sys.path`` entry, its modification time. Installing, upgrading or removing a
    distribution adds or removes a ``*.dist-info`` (or ``.pth``) entry in a ``sys.path``
    folder, which moves that folder's mtime."""
    parts = [sys.executable, sys.version, VERSION]
    for entry in sys.path:
        try:
            stamp = str(Path(entry or ".").stat().st_mtime_ns)
        except OSError:
            stamp = "-"
        parts.append(f"{entry}\x1e{stamp}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def installed_top_levels_cached(cache: ResultCache | None) -> dict[str, tuple[str, str]]:
    """:func:`installed_top_levels`, served from ``cache`` keyed by :func:`environment_key`
    (reading every distribution's metadata costs 0.2 s; a cache hit, a millisecond)."""
    if cache is None or cache.root is None:
        return installed_top_levels()
    key = environment_key()
    data = cache.get_bytes(_ENVIRONMENT, key)
    if data is not None:
        try:
            return msgspec.msgpack.decode(data, type=_installed_type)
        except msgspec.DecodeError:
            pass  # a torn or stale entry is a miss
    installed = installed_top_levels()
    with suppress(OSError):  # a read-only cache folder costs the speed-up, not the run
        cache.put_bytes(_ENVIRONMENT, key, msgspec.msgpack.encode(installed))
    return installed


def _metadata_warning(name: str, problem: str) -> FileWarning:
    message = f"{name}: {problem}; its dependencies are ignored"
    return FileWarning(code="EXTERNAL_METADATA_INVALID", message=message)


def _read_text(path: Path) -> str:
    """A metadata file's text: regular files only (a FIFO would block), bounded size."""
    return read_regular_file(path, DEFAULT_MAX_FILE_BYTES).decode("utf-8")


def _shape(value: object) -> str:
    return type(value).__name__


def _requirement_strings(
    value: object, where: str, warnings: list[FileWarning], name: str
) -> list[str]:
    """The strings of a requirement list; any other shape is reported and skipped."""
    if value is None:
        return []
    if not isinstance(value, list):
        warnings.append(_metadata_warning(name, f"{where} is a {_shape(value)}, not a list"))
        return []
    strings = [v for v in value if isinstance(v, str)]
    if len(strings) != len(value):
        warnings.append(_metadata_warning(name, f"{where} holds items that are not strings"))
    return strings


def _pyproject_dependencies(pyproject: Path) -> tuple[list[str], list[FileWarning]]:
    """Requirement strings of ``[project]`` dependencies and optional-dependencies."""
    name = "pyproject.toml"
    warnings: list[FileWarning] = []
    try:
        data: object = tomllib.loads(_read_text(pyproject))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [_metadata_warning(name, f"not readable ({exc})")]
    except tomllib.TOMLDecodeError as exc:
        return [], [_metadata_warning(name, f"not valid TOML ({exc})")]
    except RecursionError:
        # tomllib recurses once per nesting level; a 1,000-deep array exhausts the stack.
        return [], [_metadata_warning(name, "nested too deeply to parse")]
    project = data.get("project") if isinstance(data, dict) else None
    if project is None:
        return [], []
    if not isinstance(project, dict):
        return [], [_metadata_warning(name, f"[project] is a {_shape(project)}, not a table")]
    deps = _requirement_strings(
        project.get("dependencies"), "[project].dependencies", warnings, name
    )
    groups = project.get("optional-dependencies")
    if isinstance(groups, dict):
        for group, value in groups.items():
            where = f"[project.optional-dependencies].{group}"
            deps.extend(_requirement_strings(value, where, warnings, name))
    elif groups is not None:
        problem = f"[project].optional-dependencies is a {_shape(groups)}, not a table"
        warnings.append(_metadata_warning(name, problem))
    return deps, warnings


def declared_dependencies(repo_root: Path) -> set[str]:
    """Normalized names of the distributions the repository declares (read as text)."""
    return declared_dependencies_checked(repo_root)[0]


def declared_dependencies_checked(repo_root: Path) -> tuple[set[str], list[FileWarning]]:
    """Declared distribution names, and a warning for each metadata file that is malformed."""
    names: set[str] = set()
    warnings: list[FileWarning] = []
    pyproject = repo_root / "pyproject.toml"
    if pyproject.is_symlink():
        pass  # a link may lead out of the repository: never followed
    elif pyproject.is_file():
        deps, found = _pyproject_dependencies(pyproject)
        warnings.extend(found)
        names.update(_norm(name) for d in deps if (name := requirement_name(d)) is not None)
    elif pyproject.exists():
        warnings.append(_metadata_warning("pyproject.toml", "not a regular file"))
    for req in sorted(repo_root.glob("requirements*.txt")):
        if req.is_symlink():
            continue
        try:
            text = _read_text(req)
        except (OSError, UnicodeDecodeError) as exc:
            label = req.name.encode("utf-8", "backslashreplace").decode("utf-8")
            warnings.append(_metadata_warning(label, f"not readable ({exc})"))
            continue
        # A line that is not a requirement (a URL, a local path) declares no name.
        names.update(
            _norm(name)
            for line in requirement_lines(text)
            if (name := requirement_name(line.text)) is not None
        )
    return names, warnings


def classify(
    module: str, installed: Mapping[str, tuple[str, str]], declared: set[str]
) -> tuple[str, str | None, str | None]:
    """(classification, distribution, version) of an absolute external module name."""
    top = module.split(".", 1)[0]
    if top in sys.stdlib_module_names:
        return "stdlib", None, None
    if top in installed:
        dist, version = installed[top]
        return "third_party", dist, version
    if _norm(top) in declared:
        return "third_party", top, None
    return "unresolved", None, None


def external_rows(
    imports: Iterable[Mapping[str, Any]], repo_root: Path, cache: ResultCache | None = None
) -> tuple[list[dict[str, Any]], list[tuple[str, FileWarning]]]:
    """Rows of ``python_external`` (one per python_imports row whose target is external),
    and an ``IMPORT_UNRESOLVED`` warning for each that is neither stdlib nor third-party.

    The installed distributions are read only when some import is not of the stdlib, from
    ``cache`` when it holds them for this environment (:func:`installed_top_levels_cached`)."""
    external = [
        imp
        for imp in sorted(imports, key=lambda r: (r["path"], r["ordinal"]))
        if imp["target_kind"] == "external" and imp["absolute_module"]
    ]
    needs_installed = any(
        str(imp["absolute_module"]).split(".", 1)[0] not in sys.stdlib_module_names
        for imp in external
    )
    installed = installed_top_levels_cached(cache) if needs_installed else {}
    declared, metadata_warnings = declared_dependencies_checked(repo_root)
    rows: list[dict[str, Any]] = []
    warnings: list[tuple[str, FileWarning]] = [("", w) for w in metadata_warnings]
    ordinals: dict[str, int] = {}
    for imp in external:
        module = str(imp["absolute_module"])
        classification, dist, version = classify(module, installed, declared)
        path = str(imp["path"])
        ordinal = ordinals.get(path, 0)
        ordinals[path] = ordinal + 1
        rows.append(
            {
                "path": path,
                "ordinal": ordinal,
                "module": module,
                "top_level": module.split(".", 1)[0],
                "classification": classification,
                "distribution": dist,
                "distribution_version": version,
                **{k: imp[k] for k in _SPAN},
            }
        )
        if classification == "unresolved":
            message = f"import of {module!r} is neither in the repo, the stdlib nor installed"
            warnings.append(
                (
                    path,
                    FileWarning(
                        code="IMPORT_UNRESOLVED", message=message, **{k: imp[k] for k in _SPAN}
                    ),
                )
            )
    return rows, warnings

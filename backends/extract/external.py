"""Stage 0, last barrier: ``python_external`` classifies every import that leaves the repo.

stdlib: the top-level name is in ``sys.stdlib_module_names`` of the analysing interpreter.
third_party: the top-level name is provided by an installed distribution
(``importlib.metadata.packages_distributions()`` reads metadata files only), or is declared as
a dependency by the repository itself (pyproject.toml / requirements*.txt / setup.cfg, read
as text). Otherwise: unresolved. Nothing is imported.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from backends.extract.result import FileWarning

NAME = "python_external"
VERSION = "1"

_SPAN = ("bstart", "bend", "line", "col", "end_line", "end_col")
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


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


def declared_dependencies(repo_root: Path) -> set[str]:
    """Normalized names of the distributions the repository declares (read as text)."""
    names: set[str] = set()
    pyproject = repo_root / "pyproject.toml"
    if pyproject.is_file() and not pyproject.is_symlink():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        project = data.get("project", {}) if isinstance(data, dict) else {}
        deps: list[Any] = list(project.get("dependencies", []) or [])
        for group in (project.get("optional-dependencies", {}) or {}).values():
            deps.extend(group or [])
        names.update(_norm(m.group(1)) for d in deps if (m := _REQ_NAME.match(str(d))))
    for req in sorted(repo_root.glob("requirements*.txt")):
        if req.is_symlink():
            continue
        try:
            lines = req.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        names.update(
            _norm(m.group(1))
            for line in lines
            if not line.lstrip().startswith(("#", "-"))
            if (m := _REQ_NAME.match(line))
        )
    return names


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
    imports: Iterable[Mapping[str, Any]], repo_root: Path
) -> tuple[list[dict[str, Any]], list[tuple[str, FileWarning]]]:
    """Rows of ``python_external`` (one per python_imports row whose target is external),
    and an ``IMPORT_UNRESOLVED`` warning for each that is neither stdlib nor third-party."""
    installed = installed_top_levels()
    declared = declared_dependencies(repo_root)
    rows: list[dict[str, Any]] = []
    warnings: list[tuple[str, FileWarning]] = []
    ordinals: dict[str, int] = {}
    for imp in sorted(imports, key=lambda r: (r["path"], r["ordinal"])):
        if imp["target_kind"] != "external" or not imp["absolute_module"]:
            continue
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

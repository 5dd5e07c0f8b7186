"""What the legacy stack is: its modules, its distributions, and how a name refers to them.

The legacy stack (DESIGN §1, §2) is the Hamilton pipeline with its rustworkx scheduling, the
legacy backend package and the one harness adapter that reaches it. A name refers to a
legacy module only at dotted-name boundaries: ``hamilton`` and ``hamilton.driver`` do,
``hamiltonian`` and ``mylib.hamilton_utils`` do not.
"""

from __future__ import annotations

import re

from backends.extract.requirements import normalized_name, requirement_name

LEGACY_MODULES: tuple[str, ...] = (
    "hamilton",
    "rustworkx",
    "backends.legacy",
    "harness.adapters.legacy",
)
# sf-hamilton is an empty package that only requires apache-hamilton (FACTS.md); both count.
LEGACY_DISTRIBUTIONS: tuple[str, ...] = ("apache-hamilton", "sf-hamilton", "rustworkx")
# The legacy code itself, deleted at Phase 7: imports inside it are not blockers.
# ``FILE#dotted.key`` entries name a configuration table scheduled for deletion with the code
# (the ``legacy`` extra that declares apache-hamilton and rustworkx); tests/legacy/ holds the
# legacy backend's own tests.
DEFAULT_ALLOW: tuple[str, ...] = (
    "backends/legacy/",
    "harness/adapters/legacy.py",
    "tests/legacy/",
    "pyproject.toml#project.optional-dependencies.legacy",
)

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = rf"{_IDENT}(?:\.{_IDENT})*"
# A config string that is a module reference: `mod`, `mod.*`, `mod:attr`, `mod:attr [extra]`.
_MODULE_REF = re.compile(rf"(?P<mod>{_DOTTED})(?:\.\*)?(?::{_DOTTED})?(?:\s*\[[^\]]*\])?")
# A config string that is a repository path: `backends/legacy`, `./harness/adapters/legacy.py`.
_PATH_REF = re.compile(r"(?:\./)?(?P<path>[A-Za-z0-9_][A-Za-z0-9_./-]*)")


def legacy_module(module: str) -> str | None:
    """The legacy-stack module that ``module`` is or lies inside, else None."""
    for root in LEGACY_MODULES:
        if module == root or module.startswith(root + "."):
            return root
    return None


def legacy_distribution(name: str) -> str | None:
    """The legacy distribution a distribution name is (PEP 503 normalized), else None."""
    normalized = normalized_name(name)
    return normalized if normalized in LEGACY_DISTRIBUTIONS else None


def requirement_distribution(requirement: str) -> str | None:
    """The legacy distribution a PEP 508 requirement string names, else None (also when the
    string is not a requirement: prose, a URL)."""
    name = requirement_name(requirement)
    return None if name is None else legacy_distribution(name)


def path_module(path: str) -> str:
    """The dotted module a repository path names (``backends/legacy/x.py`` -> ``...x``)."""
    stem = path.strip("/").removesuffix(".py").removesuffix("/__init__")
    return stem.replace("/", ".")


def config_string_target(value: str) -> str | None:
    """The legacy module or distribution a configuration string names, else None.

    Only strings that *are* a reference count (a module, ``module:attr``, ``module.*``, a
    repository path or a requirement); prose that merely mentions Hamilton does not.
    """
    text = value.strip()
    ref = _MODULE_REF.fullmatch(text)
    if ref is not None and legacy_module(ref.group("mod")) is not None:
        return ref.group("mod")
    path = _PATH_REF.fullmatch(text)
    if path is not None and "/" in path.group("path"):
        module = path_module(path.group("path"))
        if legacy_module(module) is not None:
            return module
    return requirement_distribution(text)


# CI files are not Python: a token match at name boundaries is the best static reading.
# A dotted name, its path spelling or a distribution name; not preceded by a name character,
# a dot, a dash or a slash (so `apache/hamilton` URLs and `mylib.hamilton` do not match).
_CI_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_.\-/])"
    r"(?P<token>apache-hamilton|sf-hamilton"
    r"|harness[./]adapters[./]legacy(?:\.py)?"
    r"|backends[./]legacy(?:[./][A-Za-z_][A-Za-z0-9_]*)*(?:\.py)?/?"
    rf"|hamilton(?:\.{_IDENT})*|rustworkx(?:\.{_IDENT})*)"
    r"(?![A-Za-z0-9_\-])"
)


def ci_tokens(line: str) -> list[tuple[int, str]]:
    """(character index, target) of every legacy reference in one line of a CI file."""
    found: list[tuple[int, str]] = []
    for match in _CI_TOKEN.finditer(line):
        token = match.group("token")
        target = token if token in LEGACY_DISTRIBUTIONS else path_module(token)
        found.append((match.start("token"), target))
    return found

"""The import candidates of the per-file scip cache key, computed on plain strings, are exactly
those of the path-object formulation they replaced (a changed set would change every cache key
or, worse, miss a dependency). The reference below is that formulation, kept as the spec."""

from __future__ import annotations

import itertools
import random
from pathlib import PurePosixPath

from backends.extract.scip.closure import ImportRef, _module_parts, candidates

_SUFFIXES = (".py", ".pyi")


def _reference_bases(importer: str, level: int) -> list[PurePosixPath]:
    folder = PurePosixPath(importer).parent
    chain = [folder, *folder.parents]
    if level == 0:
        return chain
    return [chain[level - 1]] if level - 1 < len(chain) else []


def _reference(importer: str, ref: ImportRef) -> tuple[set[str], set[str]]:
    parts = _module_parts(ref.module)
    out: set[str] = set()
    folders: set[str] = set()
    if parts is None:
        return out, folders
    for base in _reference_bases(importer, ref.level):
        chains = [parts]
        if parts:
            chains.append([parts[0] + "-stubs", *parts[1:]])
        for chain in chains:
            for i in range(1, len(chain) + 1):
                stem = base.joinpath(*chain[:i])
                for suffix in _SUFFIXES:
                    out.add(str(stem.with_name(stem.name + suffix)))
                    out.add(str(stem / f"__init__{suffix}"))
            package = base.joinpath(*chain)
            if not chain:
                for suffix in _SUFFIXES:
                    out.add(str(package / f"__init__{suffix}"))
            if ref.name == "*":
                folders.add(str(package))
            elif ref.name:
                for suffix in _SUFFIXES:
                    out.add(str(package / f"{ref.name}{suffix}"))
                    out.add(str(package / ref.name / f"__init__{suffix}"))
    return out, folders


IMPORTERS = ("m.py", "pkg/__init__.py", "pkg/sub/mod.py", "a/b/c/d/e.py", "pkg/x.pyi")
MODULES = (None, "", "os", "os.path", "pkg.sub", "a.b.c", ".bad", "a..b", "x/y")
NAMES = (None, "*", "f", "sub")


def test_every_combination_matches_the_reference() -> None:
    checked = 0
    for importer, module, name, level in itertools.product(IMPORTERS, MODULES, NAMES, range(0, 7)):
        ref = ImportRef(module, name, level)
        assert candidates(importer, ref) == _reference(importer, ref), (importer, ref)
        checked += 1
    assert checked == len(IMPORTERS) * len(MODULES) * len(NAMES) * 7


def test_random_imports_match_the_reference() -> None:
    rng = random.Random(14)
    words = ["a", "b", "pkg", "core", "util", "x_1"]
    for _ in range(2000):
        depth = rng.randint(0, 5)
        importer = "/".join([*rng.choices(words, k=depth), "f.py"])
        module = ".".join(rng.choices(words, k=rng.randint(0, 4))) or None
        ref = ImportRef(module, rng.choice([None, "*", *words]), rng.randint(0, 4))
        assert candidates(importer, ref) == _reference(importer, ref), (importer, ref)


def test_an_unresolvable_module_has_no_candidate() -> None:
    """The vacuous case: nothing to resolve gives nothing, not the root folder."""
    assert candidates("pkg/m.py", ImportRef("a..b", "f", 0)) == (set(), set())

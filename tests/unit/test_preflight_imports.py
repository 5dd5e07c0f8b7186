"""Preflight: every import form is read from the syntax tree, with its absolute module name."""

from __future__ import annotations

import ast

import pytest

from harness.preflight.imports import find_imports, resolve_relative
from harness.preflight.stack import config_string_target, legacy_module


def _refs(
    source: str, module: str = "pkg.mod", is_package: bool = False
) -> list[tuple[object, ...]]:
    refs, _ = find_imports(ast.parse(source), module, is_package)
    return [(r.line, r.kind, r.module, r.names) for r in refs]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import hamilton\n", (1, "import", "hamilton", ())),
        ("import hamilton.driver as hd\n", (1, "import", "hamilton.driver", ())),
        ("from hamilton import driver\n", (1, "import", "hamilton", ("driver",))),
        (
            "from hamilton.function_modifiers import tag\n",
            (1, "import", "hamilton.function_modifiers", ("tag",)),
        ),
        ("x = 1\nimport rustworkx as rx\n", (2, "import", "rustworkx", ())),
        ("def f():\n    import hamilton\n", (2, "import", "hamilton", ())),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import rustworkx\n",
            (3, "import", "rustworkx", ()),
        ),
        (
            "from ..legacy import pipeline\n",
            (1, "relative_import", "backends.legacy", ("pipeline",)),
        ),
        ("from .. import legacy\n", (1, "relative_import", "backends", ("legacy",))),
        ("from . import facade\n", (1, "relative_import", "backends.rust", ("facade",))),
        (
            "import importlib\nm = importlib.import_module('hamilton.driver')\n",
            (2, "dynamic_import", "hamilton.driver", ()),
        ),
        (
            "import importlib as il\nil.import_module('rustworkx')\n",
            (2, "dynamic_import", "rustworkx", ()),
        ),
        (
            "from importlib import import_module\nimport_module('.legacy', package='backends')\n",
            (2, "dynamic_import", "backends.legacy", ()),
        ),
        (
            "from importlib import import_module as im\nim('..legacy', __package__)\n",
            (2, "dynamic_import", "backends.legacy", ()),
        ),
        (
            "import importlib\nLEGACY = 'hamilton.driver'\nimportlib.import_module(LEGACY)\n",
            (3, "dynamic_import", "hamilton.driver", ()),
        ),
        (
            "import importlib\nimportlib.import_module('backends.' + 'legacy')\n",
            (2, "dynamic_import", "backends.legacy", ()),
        ),
        (
            "import importlib.util\nimportlib.util.find_spec('rustworkx')\n",
            (2, "dynamic_import", "rustworkx", ()),
        ),
        ("import pytest\npytest.importorskip('hamilton')\n", (2, "dynamic_import", "hamilton", ())),
        ("__import__('hamilton')\n", (1, "dunder_import", "hamilton", ())),
        (
            "__import__('backends', fromlist=['legacy'])\n",
            (1, "dunder_import", "backends", ("legacy",)),
        ),
        (
            "__import__('legacy', globals(), locals(), ['pipeline'], 2)\n",
            (1, "dunder_import", "backends.legacy", ("pipeline",)),
        ),
    ],
)
def test_import_form_is_found_with_its_absolute_module(
    source: str, expected: tuple[object, ...]
) -> None:
    found = _refs(source, module="backends.rust.facade")
    assert expected in found


def test_relative_import_in_a_package_init_is_anchored_at_the_package_itself() -> None:
    assert _refs("from .legacy import run\n", module="backends", is_package=True) == [
        (1, "relative_import", "backends.legacy", ("run",))
    ]


@pytest.mark.parametrize(
    "source",
    [
        "def import_module(name):\n    return name\nimport_module('hamilton')\n",
        "WORDS = ['hamilton', 'rustworkx']\n",
        "getattr(obj, 'hamilton')\n",
        "print('import hamilton')\n",
    ],
)
def test_call_that_is_not_an_import_yields_no_import(source: str) -> None:
    assert _refs(source) == []


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("import importlib\nimportlib.import_module(name)\n", "unresolved_dynamic_import"),
        ("__import__(f'{x}.legacy')\n", "unresolved_dynamic_import"),
        ("from .... import x\n", "unresolved_relative_import"),
    ],
)
def test_import_that_cannot_be_named_statically_is_reported_unresolved(
    source: str, kind: str
) -> None:
    refs, unresolved = find_imports(ast.parse(source), "pkg.mod", False)
    assert [r.module for r in refs if r.kind != "import"] == []
    assert [(u.line, u.kind) for u in unresolved] == [(len(source.splitlines()), kind)]


@pytest.mark.parametrize(
    ("package", "module", "level", "expected"),
    [
        ("a.b", "c", 1, "a.b.c"),
        ("a.b", "c", 2, "a.c"),
        ("a.b", "", 2, "a"),
        ("a.b", "c", 3, None),
        (None, "c", 1, None),
        ("a", "c", 0, "c"),
    ],
)
def test_relative_resolution_matches_importlib(
    package: str | None, module: str, level: int, expected: str | None
) -> None:
    assert resolve_relative(package, module, level) == expected


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("hamilton", "hamilton"),
        ("hamilton.driver", "hamilton"),
        ("rustworkx.visit", "rustworkx"),
        ("backends.legacy.pipeline", "backends.legacy"),
        ("harness.adapters.legacy", "harness.adapters.legacy"),
        ("hamiltonian", None),
        ("mylib.hamilton_utils", None),
        ("mylib.hamilton", None),
        ("backends.legacy_tools", None),
        ("harness.adapters.rust", None),
    ],
)
def test_legacy_module_matches_only_at_dotted_name_boundaries(
    module: str, expected: str | None
) -> None:
    assert legacy_module(module) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hamilton.*", "hamilton"),
        ("backends.legacy.cli:main", "backends.legacy.cli"),
        ("backends/legacy", "backends.legacy"),
        ("./harness/adapters/legacy.py", "harness.adapters.legacy"),
        ("apache-hamilton>=1.90", "apache-hamilton"),
        ("rustworkx", "rustworkx"),
        ("from a Hamilton pipeline to rustworkx scheduling", None),
        ("rustworkx is not needed", None),
        ("hamiltonian", None),
        ("harness.cli:main", None),
    ],
)
def test_config_string_is_a_legacy_reference_only_when_it_names_one(
    value: str, expected: str | None
) -> None:
    assert config_string_target(value) == expected

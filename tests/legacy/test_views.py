"""The Hamilton view modules are the catalogue: one function per view, reading its inputs."""

from __future__ import annotations

import inspect

import pytest

from backends.contract.views import VIEW_CATALOG
from backends.legacy.driver import VIEW_MODULES

_EXTRAS = {"policy", "input_versions"}
_FUNCTIONS = {
    name: fn
    for module in VIEW_MODULES
    for name, fn in inspect.getmembers(module, inspect.isfunction)
    if fn.__module__ == module.__name__ and not name.startswith("_")
}


def test_public_functions_are_exactly_the_catalogue_views() -> None:
    assert sorted(_FUNCTIONS) == sorted(VIEW_CATALOG)


@pytest.mark.parametrize("view", sorted(VIEW_CATALOG))
def test_view_function_parameters_are_its_declared_inputs(view: str) -> None:
    params = set(inspect.signature(_FUNCTIONS[view]).parameters) - _EXTRAS
    assert params == set(VIEW_CATALOG[view].inputs)

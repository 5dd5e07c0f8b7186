"""Concrete fix hints, one per blocker, chosen from what was reached and where from."""

from __future__ import annotations

from harness.preflight.report import BlockerKind, Category
from harness.preflight.stack import legacy_module

_GATEWAY = "harness.gateway.build_graph_product"


def _module_hint(target: str) -> str:
    root = legacy_module(target) or target
    if root == "hamilton":
        return (
            "only backends/legacy/ may import hamilton: move this code there, or port it to "
            f"the Rust engine and route callers through {_GATEWAY}"
        )
    if root == "rustworkx":
        return (
            "only backends/legacy/ may import rustworkx: use the deterministic Kahn "
            "topological order of the new engine instead"
        )
    if root == "backends.legacy":
        return f"route through {_GATEWAY} instead of importing backends.legacy"
    if root == "harness.adapters.legacy":
        return (
            "reach backends only through the gateway's adapter registry, so that deleting "
            "harness/adapters/legacy.py removes the route instead of breaking this import"
        )
    return f"stop importing {target}: it is deleted with the legacy stack"


def import_hint(target: str, category: Category) -> str:
    """Hint for a direct import (static, relative or dynamic) of a legacy module."""
    if category == "test":
        return (
            f"this test imports {target}: delete it with the legacy backend, move it next to "
            "the legacy code in the deletion set, or test the behaviour through the gateway"
        )
    return _module_hint(target)


def transitive_hint(next_hop: str, target: str, category: Category) -> str:
    """Hint for a module that reaches the legacy stack through another project module."""
    fix = f"stop importing {next_hop}, or remove its dependency on {target} first"
    if category == "test":
        return f"this test reaches {target} through {next_hop}: {fix}"
    return f"{next_hop} reaches {target}: {fix}"


def config_hint(kind: BlockerKind, target: str, where: str) -> str:
    """Hint for a dependency, entry point, configuration or CI reference."""
    if kind == "dependency":
        return f"remove {target} from {where} in the change that deletes backends/legacy/"
    if kind == "entry_point":
        return f"point {where} at a module outside the legacy stack, or remove it"
    if kind == "config_section":
        return (
            f"migrate the {where} section to [engine] keys (`codeanatomy config migrate`) "
            "and delete it"
        )
    if kind == "ci_reference":
        return f"remove or replace the CI step that uses {target}"
    return f"remove the reference to {target} from {where}"

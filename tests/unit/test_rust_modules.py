"""The Rust crate's modules form layers: no module reaches, through the modules it uses, back to
itself (import-linter's layering, held for the crate by reading its `use` paths)."""

from __future__ import annotations

import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "backends" / "rust" / "src"


def _modules(src: Path) -> dict[str, Path]:
    """Module path (`views::world`, `crate` for lib.rs) -> file, test-only files left out."""
    found = {}
    for path in sorted(src.rglob("*.rs")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "tests":
            continue
        if parts[-1] in ("lib", "mod"):
            parts = parts[:-1]
        found["::".join(parts) or "crate"] = path
    return found


def _non_test_code(text: str) -> str:
    text = text.split("#[cfg(test)]\nmod tests {", 1)[0]
    return re.sub(r"//.*", "", text)


def dependencies(src: Path) -> dict[str, set[str]]:
    """Each module -> the crate modules its non-test code names (`crate::m`, `super::m`, and a
    parent's `child::`)."""
    modules = _modules(src)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        code = _non_test_code(path.read_text(encoding="utf-8"))
        parent = module.rsplit("::", 1)[0] if "::" in module else "crate"
        named = set(re.findall(r"\bcrate::(\w+)", code))
        for name in re.findall(r"\bsuper::(\w+)", code):
            sibling = name if parent == "crate" else f"{parent}::{name}"
            named.add(sibling if sibling in modules else parent)
        prefix = "" if module == "crate" else f"{module}::"
        named |= {f"{prefix}{n}" for n in re.findall(r"(?<![:\w])(\w+)::", code)}
        graph[module] = {m for m in named if m in modules and m not in (module, "crate")}
    return graph


def test_the_reader_sees_the_known_layers() -> None:
    graph = dependencies(SRC)
    assert "views::world" in graph["views::lookup"]
    assert "views" in graph["engine"]
    assert "explain" in graph["views::memo"]


def test_the_crate_has_no_module_cycle() -> None:
    try:
        tuple(TopologicalSorter(dependencies(SRC)).static_order())
    except CycleError as err:
        pytest.fail(f"module cycle in backends/rust/src: {' -> '.join(err.args[1])}")


def test_a_planted_cycle_is_found(tmp_path: Path) -> None:
    (tmp_path / "lib.rs").write_text("pub mod a;\npub mod b;\n", encoding="utf-8")
    (tmp_path / "a.rs").write_text("use crate::b::f;\n", encoding="utf-8")
    (tmp_path / "b.rs").write_text("pub fn f() { crate::a::g() }\n", encoding="utf-8")
    with pytest.raises(CycleError):
        tuple(TopologicalSorter(dependencies(tmp_path)).static_order())

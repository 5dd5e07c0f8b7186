"""The incremental gate reads a repository's text without crashing on files CPython cannot
build an ast for (the hostile golden repo's ``long_chain.py``: valid syntax, but the ast
construction exceeds the recursion limit): such a file does not parse, the edits go
elsewhere."""

from __future__ import annotations

from pathlib import Path

from harness.gates.incremental import Edit, plan_edits, read_repo

LONG_CHAIN = "x = " + " + ".join(["1"] * 100_000) + "\n"


def test_a_file_too_deep_for_the_ast_does_not_parse_and_edits_go_elsewhere(
    tmp_path: Path,
) -> None:
    (tmp_path / "long_chain.py").write_text(LONG_CHAIN, encoding="utf-8")
    (tmp_path / "core.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    (tmp_path / "use.py").write_text("from core import f\n\nf()\n", encoding="utf-8")
    repo = read_repo(tmp_path)
    assert repo.files["long_chain.py"].tree is None
    assert repo.files["core.py"].tree is not None
    plan = plan_edits(tmp_path)
    edits = [p for p in plan if isinstance(p, Edit)]
    assert edits, plan
    assert all("long_chain.py" not in (e.target, e.other) for e in edits), edits

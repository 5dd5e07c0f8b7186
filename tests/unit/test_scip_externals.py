"""Which cached scip parts speak for another file's external symbol (``merge.foreign_externals``):
the first part in walk order to carry an external symbol must be its emitter (``own``);
otherwise that file is indexed again by the rebuild."""

from __future__ import annotations

from backends.contract import schemas
from backends.extract.scip.merge import FilePart, SymbolPart, foreign_externals

SUM = "scip-python python python-stdlib 3.11 builtins/sum()."
TYPING = "scip-python python python-stdlib 3.11 typing/"


def _part(path: str, *externals: tuple[str, bool]) -> FilePart:
    return FilePart(
        path=path,
        occurrences=schemas.SCIP.empty_table(),
        symbols=[],
        externals=[
            SymbolPart(raw=raw, row={"symbol": raw}, relationships=[], own=own)
            for raw, own in externals
        ],
        warnings=[],
    )


def test_nothing_is_foreign_when_every_first_carrier_emitted_its_symbol() -> None:
    parts = [
        _part("pkg/a.py", (SUM, True)),
        _part("pkg/b.py", (SUM, False), (TYPING, True)),
        _part("pkg/c.py", (TYPING, False)),
    ]
    assert foreign_externals(parts) == set()
    assert foreign_externals([]) == set()
    assert foreign_externals([_part("pkg/a.py")]) == set()


def test_the_first_carrier_of_a_symbol_it_did_not_emit_is_foreign() -> None:
    # pkg/a.py, the emitter of both, is gone: b.py is first for sum, c.py for typing/.
    parts = [_part("pkg/b.py", (SUM, False), (TYPING, True)), _part("pkg/c.py", (SUM, False))]
    assert foreign_externals(parts) == {"pkg/b.py"}
    parts = [_part("pkg/c.py", (TYPING, False)), _part("pkg/d.py", (TYPING, True))]
    assert foreign_externals(parts) == {"pkg/c.py"}


def test_walk_order_not_the_order_given_decides_the_first_carrier() -> None:
    # Walk order: a folder's files before its sub-folders (top.py before pkg/a.py).
    parts = [_part("pkg/a.py", (SUM, True)), _part("top.py", (SUM, False))]
    assert foreign_externals(parts) == {"top.py"}
    assert foreign_externals(list(reversed(parts))) == {"top.py"}

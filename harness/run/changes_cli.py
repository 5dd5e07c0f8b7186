"""``codeanatomy changes RUN``: the CPG rows a build added, removed or changed, from the change
data feed of the run's output tables (:mod:`harness.run.changes`); the cursor is
:mod:`harness.run.cursor`'s. Exit 0 (also when nothing changed), 2 for a usage error, a
vacuumed window or a table without change data feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from harness.cli_options import JsonOpt, console, emit_json, print_error, usage_errors
from harness.exit_codes import EXIT_USAGE

if TYPE_CHECKING:
    from harness.run.changes import ChangesError, ChangeSet, RowChange

# harness.run.changes (pyarrow, deltalake) is imported when the command runs, not when the
# CLI starts: every other command would pay for it.
_TABLES = "cpg_nodes, cpg_edges, cpg_props, diagnostics"


def changes(
    run: Annotated[
        str,
        typer.Argument(
            metavar="RUN",
            help="Run directory (what build --out wrote), or a shadow folder (see --side).",
        ),
    ],
    since: Annotated[
        int | None,
        typer.Option(
            "--since",
            metavar="VERSION",
            min=-1,
            help="List versions VERSION+1 to the latest of each table, and leave the cursor "
            "where it is (-1: from the table's creation). Without it: from the cursor.",
        ),
    ] = None,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            metavar="TABLE",
            help=f"Only this output table (repeatable): {_TABLES}.",
        ),
    ] = None,
    side: Annotated[
        str | None,
        typer.Option(
            "--side",
            metavar="legacy|rust",
            help="In a shadow folder, the side to read (default: the side that served the "
            "build, as its run.json says); each side has its own cursor.",
        ),
    ] = None,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="List nothing; move the cursor to each table's latest version (after "
            "CDF_WINDOW_VACUUMED: read the table itself, then follow from there).",
        ),
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            metavar="N",
            help="Rows shown in the table (0: all); the counts and --json cover every row.",
        ),
    ] = 200,
    json: JsonOpt = False,
) -> None:
    """List the CPG rows (nodes, edges, props, diagnostics) that builds into RUN added,
    removed or changed, from the change data feed of its output tables.

    Without --since, the changes after the persisted cursor RUN/cursors/changes.json (first
    call: since each table's creation), and the cursor then moves to the versions listed;
    with --since VERSION, versions VERSION+1 to the latest, and the cursor does not move.
    Exit 2 when a needed version was vacuumed (CDF_WINDOW_VACUUMED, naming the oldest version
    kept) or a table has no change data feed (CDF_DISABLED); a missing run or table is an
    error, never an empty list.
    """
    from harness.run.changes import ChangesError, list_changes

    with usage_errors(json):
        try:
            if reset and since is not None:
                raise ChangesError("USAGE", "--reset moves the cursor, --since leaves it: not both")
            found = list_changes(run, since=since, tables=table or (), side=side, reset=reset)
        except ChangesError as exc:
            raise _changes_exit(exc, json) from exc
    if json:
        emit_json(found)
    else:
        _print(found, limit)


def _changes_exit(exc: ChangesError, json: bool) -> typer.Exit:
    """Exit 2 with the error's facts: ``{"error": {code, message, table, ...}}`` under
    ``--json``, one line ``error: CODE: message`` on stderr always."""
    if json:
        emit_json({"error": exc.to_dict()})
    print_error(f"error: {exc.code}: {exc.message}")
    return typer.Exit(EXIT_USAGE)


def _what(change: RowChange) -> str:
    row = change.after if change.after is not None else change.before
    assert row is not None
    if change.table == "cpg_edges":
        return f"{row.get('src_id')} -> {row.get('dst_id')}"
    if change.table == "cpg_props":
        return f"{row.get('key')} = {row.get('value')}"
    if change.table == "diagnostics":
        return str(row.get("message"))
    return change.qualname or change.name or ""


def _print(found: ChangeSet, limit: int) -> None:
    out = console()
    where = found.run if found.side is None else f"{found.run} (side {found.side})"
    shown = found.changes if limit == 0 else found.changes[:limit]
    if shown:
        table = Table(title=f"changes in {where}")
        for col in ("table", "change", "version", "kind", "name / what", "path", "id", "columns"):
            table.add_column(col, justify="right" if col == "version" else "left")
        for c in shown:
            ident = next(iter(c.key.values())) if len(c.key) == 1 else c.ids.get("node_id")
            table.add_row(
                c.table,
                c.change,
                str(c.version),
                c.kind or "",
                _what(c),
                c.path or "",
                "" if ident is None else str(ident),
                ", ".join(c.columns),
            )
        out.print(table)
        if len(shown) < len(found.changes):
            out.print(
                f"... {len(found.changes) - len(shown)} more (--limit 0 or --json for all)",
                markup=False,
            )
    else:
        out.print(f"reading {where}", markup=False)
    for w in found.tables:
        if w.changes == 0:
            since = "its creation" if w.since < 0 else f"version {w.since}"
            out.print(f"{w.table}: no changes since {since}", markup=False)
        else:
            versions = (
                f"versions {w.since + 1}..{w.latest}"
                if w.since + 1 < w.latest
                else f"version {w.latest}"
            )
            out.print(
                f"{w.table}: {versions}: {w.added} added, {w.removed} removed, {w.changed} changed",
                markup=False,
            )
    if found.cursor is not None:
        out.print(f"cursor moved: {found.cursor}", markup=False)
    else:
        out.print("cursor not moved (--since)", markup=False)

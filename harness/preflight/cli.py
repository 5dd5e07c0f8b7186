"""``codeanatomy preflight``: the deletion gate's command. Thin: parse, scan, print, exit code.

Exit codes (DESIGN §10): 0 no blocker, 1 gate failed (a blocker, or a file that could not be
checked: the gate fails closed), 2 usage error (path missing, allow-list entry outside the
project).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness.cli_options import HELP_MARKUP, console, emit_json, print_error
from harness.exit_codes import EXIT_GATE_FAILED, EXIT_OK, EXIT_USAGE
from harness.preflight.layout import AllowListError
from harness.preflight.report import PreflightReport
from harness.preflight.scanner import scan
from harness.preflight.stack import DEFAULT_ALLOW

app = typer.Typer(
    add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=HELP_MARKUP
)


def _print(report: PreflightReport, out: Console) -> None:
    if report.blockers:
        table = Table(title=f"deletion blockers in {report.root}")
        for column in ("where", "kind", "category", "target", "chain", "hint"):
            table.add_column(column, overflow="fold")
        for b in report.blockers:
            table.add_row(
                f"{b.path}:{b.line}:{b.col}",
                b.kind,
                b.category,
                b.target,
                " -> ".join(b.chain),
                b.hint,
            )
        out.print(table)
    for problem in report.problems:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        level = "error" if problem.blocking else "warning"
        out.print(f"{level}: {where}: {problem.kind}: {problem.message}")
    out.print(f"deletion set ({len(report.deletion_set)} files):")
    for path in report.deletion_set:
        out.print(f"  {path}")
    by_category = report.blockers_by_category()
    counts = ", ".join(f"{k}={len(v)}" for k, v in by_category.items() if v) or "none"
    verdict = "PASS" if report.ok else "FAIL"
    out.print(
        f"{verdict}: {len(report.blockers)} blocker(s) ({counts}), "
        f"{sum(p.blocking for p in report.problems)} blocking problem(s), "
        f"{report.files_scanned} files scanned"
    )


@app.command()
def preflight(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Project root to scan (never imported or run).")
    ] = Path(),  # the current directory
    json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            metavar="PATH",
            help=(
                "A path scheduled for deletion, relative to the root (repeatable; replaces the "
                f"default {', '.join(DEFAULT_ALLOW)})."
            ),
        ),
    ] = None,
) -> None:
    """Deletion gate: find everything that still depends on Hamilton, rustworkx or the
    legacy backend, with file:line and the import chain."""
    if not path.is_dir():
        print_error(f"error: {path} is not a directory")
        raise typer.Exit(EXIT_USAGE)
    try:
        report = scan(path, allow=tuple(allow) if allow else DEFAULT_ALLOW)
    except AllowListError as exc:
        print_error(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if json:
        emit_json(report)
    else:
        _print(report, console())
    raise typer.Exit(EXIT_OK if report.ok else EXIT_GATE_FAILED)

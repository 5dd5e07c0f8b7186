"""``codeanatomy maintain PATH [--dry-run] [--json]``: the Delta maintenance policy
(``harness/maintain.py``) applied to a run folder or one Delta table, and what it did."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.cli_options import ConfigOpt, JsonOpt, configured, emit_json, print_error, usage_errors
from harness.exit_codes import EXIT_ENGINE

if TYPE_CHECKING:
    from harness.maintain import MaintenanceReport

PathArg = Annotated[
    Path,
    typer.Argument(
        metavar="PATH",
        help="A run folder (every Delta table below it) or one Delta table (the parity history).",
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Report what would be done; change nothing.")
]


def maintain(
    path: PathArg,
    dry_run: DryRunOpt = False,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Compact small files, vacuum what no run or cursor pins, checkpoint (config: maintenance)."""
    from harness.maintain import maintain_path

    loaded = configured(config, json)
    policy = loaded.config.maintenance
    with usage_errors(json):
        report = _run_locked(path, dry_run, lambda: maintain_path(path, policy, dry_run=dry_run))
    if json:
        emit_json(report)
    else:
        _print(report)
    for table in report.failed:
        print_error(f"error: {table.path}: {table.error}")
    if report.failed:
        raise typer.Exit(EXIT_ENGINE)


def _run_locked(
    path: Path, dry_run: bool, work: Callable[[], MaintenanceReport]
) -> MaintenanceReport:
    """Hold a run folder of ours as its one writer while maintaining it (a build into it at
    the same time would conflict with compaction); a dry run and a lone table need no lock."""
    from harness.pins import is_delta_table
    from harness.run.lock import hold_out_folder, is_ours

    if dry_run or not path.is_dir() or is_delta_table(path) or not is_ours(path):
        return work()
    with hold_out_folder(path, "maintain"):
        return work()


def _print(report: MaintenanceReport) -> None:
    what = "would maintain" if report.dry_run else "maintained"
    typer.echo(f"{what} {len(report.tables)} Delta table(s) under {report.root}")
    for t in report.tables:
        head = f"{t.path}: version {t.version_before}"
        if t.version_after != t.version_before:
            head += f" -> {t.version_after}"
        typer.echo(head)
        if t.error is not None:
            typer.echo(f"  failed: {t.error}")
            continue
        pins = ", ".join(f"{p.version} ({p.source})" for p in t.pins) or "none"
        typer.echo(f"  pins: {pins}")
        c = t.compaction
        if c is not None:
            if c.skipped is None:
                typer.echo(
                    f"  compacted: {c.files_before} -> {c.files_after} files (version {c.version})"
                )
            else:
                typer.echo(f"  compaction skipped: {c.skipped} ({c.files_before} files)")
        v = t.vacuum
        if v is not None:
            if v.skipped is None:
                verb = "would vacuum" if report.dry_run else "vacuumed"
                typer.echo(
                    f"  {verb}: {v.files} file(s), {v.bytes} bytes "
                    f"(retention {v.retention_hours} h, kept versions {list(v.kept_versions)})"
                )
            else:
                typer.echo(f"  vacuum skipped: {v.skipped}")
        k = t.checkpoint
        if k is not None:
            if k.version is not None:
                typer.echo(f"  checkpoint: version {k.version}")
            else:
                typer.echo(f"  checkpoint skipped: {k.skipped}")
            if k.cleanup_skipped is None:
                typer.echo(f"  log cleanup: {k.log_files_removed} file(s) removed")
            else:
                typer.echo(f"  log cleanup skipped: {k.cleanup_skipped}")

"""``codeanatomy gate NAME [REPO...]``: run one gate (or ``all``), write its verdict, exit 1 on
failure. Verdicts go to ``[gates].out`` (default ``reports/gates``) as JSON and Markdown."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from harness.cli_options import ConfigOpt, JsonOpt, emit_json
from harness.exit_codes import EXIT_GATE_FAILED, EXIT_USAGE

PROJECT = Path(__file__).resolve().parents[2]


def _default_repos(gate: str) -> tuple[Path, ...]:
    from harness.golden.manifest import load_manifest

    manifest = load_manifest()
    repos = tuple(manifest.repo_dir(r) for r in manifest.repo)
    if gate == "parity":
        return repos
    return tuple(r for r in repos if r.name == "callgraph") or repos[:1]


def gate(
    name: Annotated[
        str,
        typer.Argument(
            help="parity, determinism, perf, observability, rollback, deletion, cutover or all"
        ),
    ],
    repos: Annotated[
        list[Path] | None, typer.Argument(help="Repositories (default: the golden repos).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Verdict folder (default [gates].out).")
    ] = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run a gate and write its JSON verdict and Markdown summary."""
    from harness.config.load import load_config
    from harness.config.model import ConfigError
    from harness.gates.gates import GATES, GateContext, run_gate
    from harness.gates.verdict import render_markdown, write_verdict

    names = list(GATES) if name == "all" else [name]
    if any(n not in GATES for n in names):
        typer.echo(f"error: unknown gate {name!r}; known: {', '.join(GATES)}, all", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    folder = out or loaded.resolve(loaded.config.gates.out)
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="codeanatomy-gate-") as work:
        for gate_name in names:
            chosen = tuple(repos) if repos else _default_repos(gate_name)
            ctx = GateContext(
                config=loaded, repos=chosen, work=Path(work) / gate_name, project=PROJECT
            )
            verdict = run_gate(gate_name, ctx)
            write_verdict(folder, verdict)
            verdicts.append(verdict)
            if not json:
                sys.stdout.write(render_markdown(verdict) + "\n")
    if json:
        payload = (
            verdicts[0]
            if len(verdicts) == 1
            else {"gates": verdicts, "passed": all(v.passed for v in verdicts)}
        )
        emit_json(payload)
    if not all(v.passed for v in verdicts):
        raise typer.Exit(EXIT_GATE_FAILED)

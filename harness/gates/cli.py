"""``codeanatomy gate NAME [REPO...]``: run one gate (or ``all``), write its verdict, exit 1 on
failure. Verdicts go to ``[gates].out`` (default ``reports/gates``) as JSON and Markdown, and
the evidence each verdict links to (runs, reports) to ``<out>/<gate>/``, where it stays.

A missing or unusable input (a repository that does not exist, an invalid parity policy, no
parity history for ``cutover``, an unreadable benchmark report for ``perf``) is refused with
exit 2 before the gate runs: a gate must never pass over inputs it could not read.
"""

from __future__ import annotations

import json as jsonlib
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from harness.boundary import INPUT_MISSING, OUT_NOT_A_DIRECTORY, out_dir, repo_dirs
from harness.cli_options import (
    AddressOpt,
    ConfigOpt,
    ExecutorOpt,
    JsonOpt,
    configured,
    emit_json,
    output_folder,
    progress_bar,
    progress_hook,
    usage_errors,
)
from harness.config.load import LoadedConfig
from harness.errors import UsageError
from harness.exit_codes import EXIT_GATE_FAILED
from harness.vocabulary import BACKENDS

PROJECT = Path(__file__).resolve().parents[2]
EVIDENCE_MARKER = ".codeanatomy-gate-evidence"
"""Marks ``<out>/<gate>/`` as written by this command: only such a folder is ever cleared."""


def _default_repos(gate: str) -> tuple[Path, ...]:
    from harness.golden.manifest import load_manifest

    manifest = load_manifest()
    repos = tuple(manifest.repo_dir(r) for r in manifest.repo)
    if gate == "parity":
        return repos
    return tuple(r for r in repos if r.name == "callgraph") or repos[:1]


def evidence_folder(verdicts: Path, gate: str) -> Path:
    """``verdicts/<gate>/``, emptied for a new run of the gate and kept afterwards, so that the
    verdict's evidence links still resolve (they used to point into a deleted temporary folder).

    A folder of that name that this command did not create is never deleted.
    """
    folder = verdicts / gate
    marker = folder / EVIDENCE_MARKER
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise UsageError(
            OUT_NOT_A_DIRECTORY, f"{folder} exists and is not a folder: cannot hold gate evidence"
        )
    if folder.is_dir():
        if marker.is_file():
            shutil.rmtree(folder)
        elif any(folder.iterdir()):
            raise UsageError(
                OUT_NOT_A_DIRECTORY,
                f"{folder} exists and was not written by codeanatomy gate: "
                "choose another --out (its content is not deleted)",
            )
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"evidence of the {gate} gate; cleared when the gate runs again\n")
    return folder


def _bench_report(path: Path) -> dict[str, object] | None:
    """A benchmark report read as a JSON object; None when absent (a failed check of the perf
    gate); a usage error when present but unreadable (it would crash the gate)."""
    if not path.is_file():
        return None
    try:
        data = jsonlib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(INPUT_MISSING, f"benchmark report {path} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(INPUT_MISSING, f"benchmark report {path} is not a JSON object")
    return data


def check_inputs(gate: str, config: LoadedConfig, project: Path) -> None:
    """Refuse (UsageError) the inputs a gate would misread as a pass, or crash on."""
    if gate == "parity":
        from harness.compare.policy import configured_policy

        configured_policy(config)  # a PolicyError is a UsageError
    elif gate == "cutover":
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError

        from harness.storage import delta_exists, delta_location, is_uri, redact

        history = config.location(config.config.parity.history)
        options = config.storage_options if is_uri(history) else {}
        if not delta_exists(history, options):
            raise UsageError(
                INPUT_MISSING,
                f"no parity history at {history}: the cutover gate counts clean parity runs "
                "there; run `codeanatomy gate parity` or `codeanatomy shadow` first",
            )
        try:
            DeltaTable(delta_location(history), storage_options=options or None)
        except (DeltaError, OSError) as exc:
            raise UsageError(
                INPUT_MISSING,
                f"unreadable parity history at {history}: {redact(str(exc), options)}",
            ) from exc
    elif gate == "perf":
        # The same files gate_perf reads (harness/gates/gates.py).
        from harness.gates.gates import bench_dir

        reports = bench_dir(config)
        _bench_report(reports / "bench_semantic.json")
        extract = _bench_report(reports / "bench_extract.json")
        corpora = extract.get("corpora") if extract is not None else None
        if extract is not None and not (
            isinstance(corpora, dict)
            and any(
                isinstance(v, dict)
                and isinstance(v.get("ratios"), dict)
                and v["ratios"].get("warm_over_cold") is not None
                for v in corpora.values()
            )
        ):
            # Without a ratio the gate would check no extraction budget at all and could pass.
            raise UsageError(
                INPUT_MISSING,
                f"{reports / 'bench_extract.json'} has no warm/cold ratio for any corpus: "
                "run make bench",
            )


def gate(
    name: Annotated[
        str,
        typer.Argument(
            metavar="GATE",
            help="parity, determinism, perf, observability, rollback, deletion, cutover, "
            "incremental or all",
        ),
    ],
    repos: Annotated[
        list[Path] | None,
        typer.Argument(metavar="REPO", help="Repositories (default: the golden repos)."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", metavar="DIR", help="Verdict and evidence folder (default [gates].out)."
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            metavar="legacy|rust",
            help="Engine of the incremental gate (default: the configured primary).",
        ),
    ] = None,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run a gate and write its JSON verdict and Markdown summary."""
    from harness.gates.executor import make_executor
    from harness.gates.gates import GATES, GateContext, run_gate
    from harness.gates.verdict import render_markdown, write_verdict
    from harness.storage import is_uri

    names = list(GATES) if name == "all" else [name]
    with ExitStack() as stack:
        with usage_errors(json):
            if any(n not in GATES for n in names):
                raise UsageError(
                    "UNKNOWN_GATE", f"unknown gate {name!r}; known: {', '.join(GATES)}, all"
                )
            if backend is not None and backend not in BACKENDS:
                raise UsageError(
                    "UNKNOWN_BACKEND", f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}"
                )
            if backend is not None and "incremental" not in names:
                raise UsageError(
                    "OPTION_NOT_APPLICABLE",
                    f"--backend applies to the incremental gate only, not to {name!r}",
                )
            if (executor != "local" or address is not None) and "parity" not in names:
                raise UsageError(
                    "OPTION_NOT_APPLICABLE",
                    f"--executor and --address apply to the parity gate only, not to {name!r}",
                )
            runner = make_executor(executor, address)
            loaded = configured(config, json)
            target = out if out is not None else loaded.config.gates.out
            if is_uri(target):
                # Verdicts and gate evidence go to the bucket: staged locally, published at the end.
                folder = stack.enter_context(output_folder(target, loaded, json, "[gates].out"))
            elif out is not None:
                folder = out_dir(out)
            else:
                folder = out_dir(target, "[gates].out", base=loaded.root)
            # Repositories named on the command line are checked before any gate runs: a path
            # that does not exist must be an error, never a gate that passes over nothing.
            given = repo_dirs(repos) if repos else None
            # The policy is read before the first gate so that `gate all` does not run for an
            # hour before refusing it; the other inputs are checked when their gate's turn comes
            # (parity writes the history cutover reads).
            if "parity" in names:
                check_inputs("parity", loaded, PROJECT)
            out_dir(folder, create=True)
        verdicts = []
        for gate_name in names:
            with usage_errors(json):
                check_inputs(gate_name, loaded, PROJECT)
                chosen = given or repo_dirs(_default_repos(gate_name))
                work = evidence_folder(folder, gate_name)
                with progress_bar(not json) as bar:
                    ctx = GateContext(
                        config=loaded,
                        repos=chosen,
                        work=work,
                        project=PROJECT,
                        progress=progress_hook(bar),
                        backend=backend,
                        executor=runner,
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

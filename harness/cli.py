"""The ``codeanatomy`` command line: the app that assembles the commands, the root options
(``--version``, ``--debug``), ``version``, and the entry point that maps every ending to an exit
code (DESIGN §10).

Each command lives next to the code it drives and is thin (parse, call one function, print,
map the result to an exit code): ``engine_cli`` (build, plan), ``run/cli`` (extract),
``run/changes_cli`` (changes), ``maintain_cli`` (maintain), ``shadow/cli``, ``compare/cli``,
``gates/cli``, ``status_cli`` (status, release), ``golden/cli``, ``config/cli``,
``killswitch/cli``, ``preflight/cli``; what they share is in ``cli_options``.

Exit codes: 0 ok, 1 gate failed, 2 usage or config error, 3 engine error, 4 internal error.
"""

from __future__ import annotations

import atexit
import os
import sys
import traceback
from typing import Annotated, NoReturn

import typer

from harness.cli_options import HELP_MARKUP, Command, JsonOpt, emit_json, print_error
from harness.compare.cli import compare
from harness.config.cli import app as config_app
from harness.engine_cli import build, plan
from harness.exit_codes import EXIT_INTERNAL
from harness.gates.cli import gate
from harness.golden.cli import app as golden_app
from harness.killswitch.cli import app as killswitch_app
from harness.maintain_cli import maintain
from harness.preflight.cli import preflight
from harness.run.changes_cli import changes
from harness.run.cli import extract
from harness.shadow.cli import shadow
from harness.status_cli import release_app, status

app = typer.Typer(
    name="codeanatomy",
    help="Code property graphs of Python repositories as Delta tables, with engine parity gates.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion
    pretty_exceptions_enable=False,
    rich_markup_mode=HELP_MARKUP,  # the sub-apps' help is formatted with the root's mode
)
app.command("preflight", cls=Command)(preflight)
app.command("build", cls=Command)(build)
app.command("changes", cls=Command)(changes)
app.command("maintain", cls=Command)(maintain)
app.command("plan")(plan)
app.command("compare", cls=Command)(compare)
app.command("shadow", cls=Command)(shadow)
app.command("gate", cls=Command)(gate)
app.command("status")(status)
app.add_typer(release_app, name="release")
app.add_typer(config_app, name="config")
app.add_typer(killswitch_app, name="killswitch")
app.add_typer(golden_app, name="golden")

DEBUG_ENV = "CODEANATOMY_DEBUG"
"""Set (to 1) by ``--debug``: the Rust engine's panic hook then prints, and child processes
inherit the setting."""
_RUST_BACKTRACE_VARS = ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE")
_user_backtrace_env: dict[str, str | None] = {}


def _quiet_rust_backtraces() -> None:
    """Without ``--debug`` an error message never carries a Rust backtrace, whatever the
    user's environment says: delta-rs and delta-kernel capture one into their error text when
    RUST_BACKTRACE is set. Must run before any Rust code captures (it reads the variables once)."""
    for var in _RUST_BACKTRACE_VARS:
        _user_backtrace_env[var] = os.environ.get(var)
        os.environ[var] = "0"


def _debugging() -> bool:
    return os.environ.get(DEBUG_ENV) == "1"


def _print_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the versions of codeanatomy, its contract and its engine, and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Print the Python traceback of an internal error, and let Rust backtraces "
            "and panic messages through (as RUST_BACKTRACE says).",
        ),
    ] = False,
) -> None:
    """Code property graphs of Python repositories as Delta tables, with engine parity gates."""
    from harness.telemetry import configure_from_env

    configure_from_env()  # CODEANATOMY_OTEL=console prints every span on stderr
    if not debug:
        return
    os.environ[DEBUG_ENV] = "1"
    for var, value in _user_backtrace_env.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


@app.command()
def version(json: JsonOpt = False) -> None:
    """Print the versions of codeanatomy, its contract and its engine."""
    from harness.versions import versions

    info = versions()
    if json:
        emit_json(info)
    else:
        for key, value in info.items():
            typer.echo(f"{key}: {value}")


app.command("extract", cls=Command)(extract)


class _NoPandas:
    """A finder that makes ``import pandas`` fail (installed first on ``sys.meta_path``;
    a plain class: ``importlib.abc`` costs 25 ms to import)."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "pandas":
            raise ModuleNotFoundError("pandas hidden from pyarrow", name=fullname)


def _arrow_without_pandas() -> None:
    """Tell pyarrow that pandas is absent, unless something imported it already.

    pyarrow imports pandas (0.25-0.5 s) on its first ``pa.array`` or ``pa.table`` call when
    pandas is installed, only to recognise pandas objects passed in; codeanatomy never passes
    one. pyarrow tries that import once per process in its Python layer and once in its C++
    sequence converter: made while ``import pandas`` fails, both record "no pandas" (an
    explicit ``to_pandas()`` still imports it later)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    hide = _NoPandas()
    sys.meta_path.insert(0, hide)
    try:
        pa.array([0])  # a non-empty sequence of inferred type reaches the C++ converter
    finally:
        sys.meta_path.remove(hide)


def _exit(code: int) -> NoReturn:
    """Leave without running native destructors: delta-rs and Arrow thread pools can abort the
    interpreter's shutdown ("terminate called without an active exception", delta-rs #2184),
    turning a finished run into exit code 134. Python's exit handlers still run."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    """Console-script entry point."""
    _quiet_rust_backtraces()
    _arrow_without_pandas()
    try:
        app()
    except SystemExit as stop:
        code = stop.code
        if code is None or isinstance(code, int):
            _exit(code or 0)
        raise
    except Exception as exc:  # the last line of defence: a crash is an internal error code
        if _debugging():
            traceback.print_exc()
        hint = "" if _debugging() else "; rerun with --debug for the traceback"
        print_error(
            f"internal error (a bug in codeanatomy, please report it): "
            f"{type(exc).__name__}: {exc}{hint}"
        )
        _exit(EXIT_INTERNAL)
    _exit(0)


if __name__ == "__main__":
    main()

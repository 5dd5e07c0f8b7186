"""The CLI: thin commands, documented exit codes, JSON on request."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from harness.exit_codes import EXIT_OK, EXIT_USAGE

runner = CliRunner()


def test_extract_json_summary_accounts_for_every_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("from .mod import f\n")
    (repo / "pkg" / "mod.py").write_text("import os\n\ndef f():\n    return os.getcwd()\n")
    (repo / "broken.py").write_text("def (:\n")
    result = runner.invoke(
        app,
        [
            "extract",
            str(repo),
            "--out",
            str(tmp_path / "out"),
            "--no-cache",
            "--json",
            "--only",
            "ast",
            "--only",
            "python_imports",
            "--only",
            "python_external",
        ],
    )
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads(result.stdout)
    assert summary["files"] == 3
    assert summary["warnings_by_code"]["EXTRACT_SYNTAX_ERROR"] == 1
    assert summary["tables"]["python_imports"] == 2
    assert all(not s["unaccounted"] for s in summary["extractors"].values())
    assert (tmp_path / "out" / "evidence" / "ast" / "_delta_log").is_dir()


def test_unknown_extractor_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["extract", str(tmp_path), "--out", str(tmp_path / "o"), "--only", "nope"]
    )
    assert result.exit_code == EXIT_USAGE


def test_missing_repo_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    assert result.exit_code == EXIT_USAGE


def test_version_json_names_the_contract() -> None:
    result = runner.invoke(app, ["version", "--json"])
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout)["contract"] == "cpg/1"


_PANDAS_PROBE = """
import sys
import pyarrow as pa
from harness.cli import _arrow_without_pandas
{before}
_arrow_without_pandas()
pa.table({{"a": [1, 2], "s": ["x", None]}})
pa.Table.from_pylist([{{"a": 1}}])
print("pandas" in sys.modules)
print(type(pa.table({{"a": [1]}}).to_pandas()).__name__)
"""


def _probe(before: str) -> list[str]:
    import subprocess
    import sys

    code = _PANDAS_PROBE.format(before=before)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.split()


def test_the_cli_keeps_pyarrow_from_importing_pandas() -> None:
    # pandas stays out of the process (0.25-0.5 s of a build) and to_pandas still works.
    assert _probe("") == ["False", "DataFrame"]


def test_pandas_imported_before_the_cli_starts_is_left_alone() -> None:
    # The vacuous case: with pandas already there, pyarrow's detection is not touched.
    assert _probe("import pandas") == ["True", "DataFrame"]

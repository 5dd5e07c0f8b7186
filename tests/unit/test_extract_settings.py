"""Settings that validate are settings that apply: every ``[extract]`` key reaches the
commands that extract, flags win over the file, and nonsensical numbers are refused with the
key named (issue 18, part 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.contract.schemas import EXTRACTORS
from harness.cli import app
from harness.config.load import LoadedConfig, load_text
from harness.config.model import ConfigError
from harness.exit_codes import EXIT_OK, EXIT_USAGE
from harness.run.extract_options import extract_options

runner = CliRunner()


def _config(tmp_path: Path, text: str) -> LoadedConfig:
    file = tmp_path / "codeanatomy.toml"
    file.write_text(text)
    return load_text(text, file=file, root=tmp_path, env={})


def test_every_extract_key_reaches_the_options(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        '[extract]\nworkers = 1\ncache = "c"\nfile_timeout_s = 7.5\nmax_file_bytes = 1234\n'
        "scip_shards = 3\n",
    )
    options = extract_options(config)
    assert options.workers == 1
    assert options.cache_dir == tmp_path / "c"
    assert options.file_timeout_s == 7.5
    assert options.max_file_bytes == 1234
    assert options.scip_shards == 3
    assert options.extractors == EXTRACTORS  # builds always extract every source


def test_flags_win_over_the_file(tmp_path: Path) -> None:
    config = _config(tmp_path, '[extract]\nworkers = 1\ncache = "c"\n')
    assert extract_options(config, workers=2).workers == 2
    assert extract_options(config, no_cache=True).cache_dir is None
    assert extract_options(config, cache_dir=tmp_path / "d").cache_dir == tmp_path / "d"
    assert extract_options(config, extractors=("ast",)).extractors == ("repo_scan", "ast")
    shards = _config(tmp_path, "[extract]\nscip_shards = 3\n")
    assert extract_options(shards, scip_shards=1).scip_shards == 1
    assert extract_options(shards).scip_shards == 3


def test_the_defaults_apply_without_a_file(tmp_path: Path) -> None:
    options = extract_options(_config(tmp_path, ""))
    assert options.workers == 0 and options.file_timeout_s == 60.0
    assert options.scip_shards == 0  # one indexer per two cores (backends.extract.scip.shard)
    assert options.cache_dir is not None


@pytest.mark.parametrize(
    "line",
    [
        "file_timeout_s = nan",
        "file_timeout_s = inf",
        "file_timeout_s = -1",
        "file_timeout_s = 1e308",
        "max_file_bytes = 0",
        "max_file_bytes = -5",
        "workers = -1",
        "scip_shards = -1",
        "scip_shards = 100000",
    ],
)
def test_nonsensical_numbers_are_refused_with_the_key_named(tmp_path: Path, line: str) -> None:
    key = line.split(" =", maxsplit=1)[0]
    with pytest.raises(ConfigError) as raised:
        _config(tmp_path, f"[extract]\n{line}\n")
    assert key in str(raised.value)


def _repo(root: Path) -> Path:
    root.mkdir()
    (root / "mod.py").write_text("def f():\n    return 1\n" * 40)
    (root / "small.py").write_text("x = 1\n")
    return root


def test_extract_applies_the_configured_extractors_and_size_limit(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    config = tmp_path / "codeanatomy.toml"
    config.write_text('[extract]\nextractors = ["ast"]\nmax_file_bytes = 100\ncache = false\n')
    result = runner.invoke(
        app,
        ["extract", str(repo), "--out", str(tmp_path / "out"), "--config", str(config), "--json"],
    )
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads(result.stdout)
    assert set(summary["extractors"]) == {"repo_scan", "ast"}
    assert summary["warnings_by_code"].get("SCAN_FILE_TOO_LARGE") == 1
    assert summary["scip"] is None  # scip did not run: no scip section, not an empty one


def test_extract_json_reports_how_scip_ran(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    config = tmp_path / "codeanatomy.toml"
    config.write_text('[extract]\nextractors = ["scip"]\ncache = false\nscip_shards = 1\n')
    argv = ["extract", str(repo), "--out", str(tmp_path / "out"), "--config", str(config)]
    result = runner.invoke(app, [*argv, "--json", "--scip-shards", "2"])
    assert result.exit_code == EXIT_OK, result.output
    scip = json.loads(result.stdout)["scip"]
    # Two files: the flag's two shards win over the file's one; nothing cached (cache = false).
    assert scip["files"] == 2 and scip["indexed"] == 2 and scip["cached"] == 0
    assert scip["shards"] == 2 and scip["failed"] == 0


def test_extract_refuses_an_unknown_configured_extractor(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    config = tmp_path / "codeanatomy.toml"
    config.write_text('[extract]\nextractors = ["astt"]\n')
    result = runner.invoke(
        app, ["extract", str(repo), "--out", str(tmp_path / "out"), "--config", str(config)]
    )
    assert result.exit_code == EXIT_USAGE

"""Loading the configuration: discovery, validation with file:line errors, env, provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import ConfigError, load_config, load_text
from harness.config.discover import find_config
from harness.config.model import (
    CONFIG_ENV_INVALID,
    CONFIG_INVALID,
    CONFIG_NOT_FOUND,
    CONFIG_PARSE_ERROR,
    CONFIG_POLICY_MISSING,
    CONFIG_PYPROJECT_SHADOWED,
    CONFIG_UNKNOWN_SECTION,
    CodeanatomyConfig,
)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(text: str, tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    path = _write(tmp_path, "codeanatomy.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return [str(p) for p in caught.value.problems]


def test_no_file_gives_the_defaults_and_every_source_is_default(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    loaded = load_config(start=tmp_path, env={})
    assert loaded.file is None
    assert loaded.config == CodeanatomyConfig()
    assert {s.kind for s in loaded.sources.values()} == {"default"}
    assert "engine.backend" in loaded.sources
    assert "parity.thresholds.max_sev2" in loaded.sources
    assert loaded.state_dir == tmp_path / ".codeanatomy"


def test_the_brief_example_error_names_file_line_key_and_choices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = '# comment\n\n[engine]\nshadow = false\nbackend = "rus"\n'
    assert _problems(text, tmp_path) == [
        "codeanatomy.toml:5: [engine].backend: expected one of legacy, rust, shadow, got 'rus'"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[engine]\nbackend = 3\n",
            ":2: [engine].backend: expected one of legacy, rust, shadow, got 3",
        ),
        ('[engine]\nshadow = "yes"\n', ":2: [engine].shadow: expected true or false, got 'yes'"),
        (
            '[engine]\nkill_switch = "rust"\n',
            ":2: [engine].kill_switch: expected true or false or 'legacy', got 'rust'",
        ),
        ("\n[extract]\nworkers = -1\n", ":3: [extract].workers: expected an integer >= 0, got -1"),
        ("[extract]\nfile_timeout_s = 0\n", ":2: [extract].file_timeout_s: expected a number > 0"),
        (
            '[extract]\nextractors = "ast"\n',
            ":2: [extract].extractors: expected a list of strings, got 'ast'",
        ),
        (
            "[extract]\ncache = 1\n",
            ":2: [extract].cache: expected true or false or a string, got 1",
        ),
        (
            '[parity]\n[parity.thresholds]\nmax_sev2 = "0"\n',
            ":3: [parity.thresholds].max_sev2: expected an integer >= 0, got '0'",
        ),
        (
            '[engine]\nbakend = "rust"\n',
            ":2: [engine].bakend: unknown key; did you mean 'backend'?",
        ),
        ("[parity]\nthresholds = 3\n", ":2: [parity].thresholds: expected a table, got 3"),
        ("engine = 3\n", ":1: [engine]: expected a table, got 3"),
        ('backend = "rust"\n', ":1: backend: unknown top-level key"),
        (
            '[extract]\nextractors = ["ast", "asst"]\n',
            ":2: [extract].extractors: unknown extractor(s) ['asst']",
        ),
        (
            '[extract]\nextractors = ["ast", "ast"]\n',
            ":2: [extract].extractors: lists an extractor",
        ),
        (
            '[engine]\nprimary = "rust"\ncandidate = "rust"\n',
            ":3: [engine].candidate: must differ from primary ('rust')",
        ),
    ],
)
def test_each_invalid_value_is_reported_at_its_line(
    text: str, expected: str, tmp_path: Path
) -> None:
    problems = _problems(text, tmp_path)
    assert len(problems) == 1
    assert expected in problems[0]


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    text = '[engine]\nbackend = "rus"\nshadoww = true\n\n[extract]\nworkers = "4"\n'
    problems = _problems(text, tmp_path)
    assert [p.split(": ")[0].rsplit(":", 1)[1] for p in problems] == ["2", "3", "6"]


def test_a_multiline_value_does_not_shift_the_lines_after_it(tmp_path: Path) -> None:
    text = '[extract]\nextractors = [\n  "ast",\n  "cst",\n]\nworkers = -2\n'
    assert ":6: [extract].workers" in _problems(text, tmp_path)[0]


def test_invalid_toml_is_a_parse_error_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "codeanatomy.toml", "[engine]\nbackend = \n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.code == CONFIG_PARSE_ERROR
    assert caught.value.problems[0].line == 2


def test_an_explicit_missing_file_is_config_not_found(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml", env={})
    assert caught.value.code == CONFIG_NOT_FOUND


def test_values_from_the_file_record_their_key_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "codeanatomy.toml", "[extract]\n# c\nworkers = 3\n")
    loaded = load_config(path, env={}, locate=True)
    assert loaded.config.extract.workers == 3
    source = loaded.sources["extract.workers"]
    assert (source.kind, source.key, source.line) == ("file", "[extract].workers", 3)
    assert loaded.sources["extract.cache"].kind == "default"


def test_unknown_sections_are_kept_as_warnings_not_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "codeanatomy.toml", "[engnie]\nbackend = 1\n")
    loaded = load_config(path, env={})
    (warning,) = loaded.warnings
    assert warning.code == CONFIG_UNKNOWN_SECTION
    assert warning.line == 1
    assert "did you mean 'engine'" in warning.message


def test_pyproject_tool_table_is_read_and_errors_name_the_full_key(tmp_path: Path) -> None:
    text = '[project]\nname = "x"\n\n[tool.codeanatomy.engine]\nbackend = "rust"\n'
    _write(tmp_path, "pyproject.toml", text)
    loaded = load_config(start=tmp_path, env={})
    assert loaded.pyproject
    assert loaded.config.engine.backend == "rust"
    bad = text.replace('"rust"', '"rs"')
    _write(tmp_path, "pyproject.toml", bad)
    with pytest.raises(ConfigError) as caught:
        load_config(start=tmp_path, env={})
    assert ":5: [tool.codeanatomy.engine].backend: expected one of" in str(caught.value)


def test_codeanatomy_toml_wins_over_pyproject_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", '[tool.codeanatomy.engine]\nbackend = "rust"\n')
    _write(tmp_path, "codeanatomy.toml", '[engine]\nbackend = "shadow"\n')
    loaded = load_config(start=tmp_path, env={})
    assert loaded.config.engine.backend == "shadow"
    assert [w.code for w in loaded.warnings] == [CONFIG_PYPROJECT_SHADOWED]


def test_discovery_walks_up_from_a_subfolder_but_not_past_the_repo(tmp_path: Path) -> None:
    _write(tmp_path, "codeanatomy.toml", "[engine]\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src" / "pkg").mkdir(parents=True)
    assert find_config(repo / "src" / "pkg") == (None, repo)
    _write(repo, "codeanatomy.toml", "")
    assert find_config(repo / "src" / "pkg") == (repo / "codeanatomy.toml", repo)


@pytest.mark.parametrize(
    ("file_text", "env_value", "backend", "shadow", "kind"),
    [
        ("", "rust", "rust", False, "env"),
        ('[engine]\nbackend = "rust"\n', "legacy", "legacy", False, "env"),
        ("[engine]\nshadow = true\n", "legacy", "legacy", False, "env"),
        ('[engine]\nbackend = "rust"\n', " SHADOW ", "shadow", True, "env"),
        ('[engine]\nbackend = "rust"\n', "", "rust", False, "file"),
    ],
)
def test_codeanatomy_backend_env_overrides_the_mode(
    tmp_path: Path, file_text: str, env_value: str, backend: str, shadow: bool, kind: str
) -> None:
    path = _write(tmp_path, "codeanatomy.toml", file_text)
    loaded = load_config(path, env={"CODEANATOMY_BACKEND": env_value})
    assert (loaded.config.engine.backend, loaded.config.engine.shadow) == (backend, shadow)
    assert loaded.sources["engine.backend"].kind == kind


def test_an_invalid_backend_env_is_an_env_error(tmp_path: Path) -> None:
    problems = _problems("", tmp_path, env={"CODEANATOMY_BACKEND": "rst"})
    assert problems == [
        "environment: CODEANATOMY_BACKEND: expected one of legacy, rust, shadow, got 'rst'"
    ]


def test_env_error_carries_its_own_code(tmp_path: Path) -> None:
    path = _write(tmp_path, "codeanatomy.toml", "")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={"CODEANATOMY_BACKEND": "x"})
    assert caught.value.code == CONFIG_ENV_INVALID


@pytest.mark.parametrize(
    ("text", "primary", "candidate"),
    [
        ('[engine]\nbackend = "shadow"\n', "legacy", "rust"),
        ("[engine]\nshadow = true\n", "legacy", "rust"),
        ('[engine]\nshadow = true\nbackend = "rust"\n', "rust", "legacy"),
        (
            '[engine]\nbackend = "shadow"\nprimary = "rust"\ncandidate = "legacy"\n',
            "rust",
            "legacy",
        ),
    ],
)
def test_shadow_flag_and_shadow_backend_normalize_to_one_form(
    tmp_path: Path, text: str, primary: str, candidate: str
) -> None:
    engine = load_config(_write(tmp_path, "codeanatomy.toml", text), env={}).config.engine
    assert (engine.backend, engine.shadow) == ("shadow", True)
    assert (engine.primary, engine.candidate) == (primary, candidate)


def test_shadow_flag_conflicting_with_an_explicit_primary_is_an_error(tmp_path: Path) -> None:
    text = '[engine]\nshadow = true\nbackend = "rust"\nprimary = "legacy"\n'
    (problem,) = _problems(text, tmp_path)
    assert ":4: [engine].primary:" in problem


def test_relative_paths_resolve_beside_the_config_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "codeanatomy.toml", '[engine]\nstate_dir = "var/ks"\n')
    assert load_config(path, env={}).state_dir == tmp_path / "var" / "ks"


def test_a_missing_policy_file_is_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "codeanatomy.toml", '[parity]\npolicy = "policy.toml"\n')
    (warning,) = load_config(path, env={}).warnings
    assert (warning.code, warning.line) == (CONFIG_POLICY_MISSING, 2)


def test_load_text_without_a_file_reports_problems_without_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text('[engine]\nbackend = "x"\n', file=None, root=Path(), env={})
    problem = caught.value.problems[0]
    assert (problem.code, problem.line, problem.key) == (CONFIG_INVALID, None, "[engine].backend")

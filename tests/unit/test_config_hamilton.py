"""A legacy [hamilton] section still loads: mapped to current keys, with structured warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.config.hamilton import MAPPING, map_hamilton
from harness.config.model import CONFIG_HAMILTON_DEPRECATED, CONFIG_HAMILTON_UNMAPPED


def _load(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "codeanatomy.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env={}, locate=True)


@pytest.mark.parametrize(
    ("hamilton", "section", "key", "value"),
    [
        ('executor = "multiprocessing"', "extract", "workers", 0),
        ('executor = "synchronous"', "extract", "workers", 1),
        ("max_tasks = 6", "extract", "workers", 6),
        ("workers = 2", "extract", "workers", 2),
        ('cache_path = ".hcache"', "extract", "cache", ".hcache"),
        ("cache = false", "extract", "cache", False),
        ("enable_shadow = true", "engine", "shadow", True),
        ("timeout = 5", "extract", "file_timeout_s", 5.0),
    ],
)
def test_each_mapped_key_sets_its_current_equivalent(
    tmp_path: Path, hamilton: str, section: str, key: str, value: object
) -> None:
    loaded = _load(tmp_path, f"[hamilton]\n{hamilton}\n")
    assert getattr(getattr(loaded.config, section), key) == value
    source = loaded.sources[f"{section}.{key}"]
    assert (source.kind, source.key, source.line) == (
        "file",
        f"[hamilton].{hamilton.split(' =', maxsplit=1)[0]}",
        2,
    )


def test_the_section_yields_a_deprecation_warning_at_its_header(tmp_path: Path) -> None:
    loaded = _load(tmp_path, '[engine]\nbackend = "legacy"\n\n[hamilton]\nmax_tasks = 2\n')
    (warning,) = loaded.warnings
    assert (warning.code, warning.line) == (CONFIG_HAMILTON_DEPRECATED, 4)
    assert "[hamilton].max_tasks -> [extract].workers" in warning.message


def test_enable_shadow_makes_a_shadow_run(tmp_path: Path) -> None:
    engine = _load(tmp_path, "[hamilton]\nenable_shadow = true\n").config.engine
    assert (engine.backend, engine.primary, engine.candidate) == ("shadow", "legacy", "rust")


def test_explicit_worker_count_beats_the_executor_kind(tmp_path: Path) -> None:
    loaded = _load(tmp_path, '[hamilton]\nexecutor = "synchronous"\nmax_tasks = 8\n')
    assert loaded.config.extract.workers == 8
    unmapped = [w for w in loaded.warnings if w.code == CONFIG_HAMILTON_UNMAPPED]
    assert [(w.line, "superseded by [hamilton].max_tasks" in w.message) for w in unmapped] == [
        (2, True)
    ]


def test_a_current_key_beats_the_legacy_one(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "[extract]\nworkers = 3\n\n[hamilton]\nmax_tasks = 8\n")
    assert loaded.config.extract.workers == 3
    assert loaded.sources["extract.workers"].key == "[extract].workers"
    assert any("[extract].workers is set" in w.message for w in loaded.warnings)


@pytest.mark.parametrize(
    "hamilton",
    [
        'outputs = ["cpg_nodes"]',
        'executor = "ray"',
        "max_tasks = -4",
        'max_tasks = "many"',
        "enable_shadow = 1",
        "timeout = 0",
        "[hamilton.sub]\nq = 1",
        'adapter = {kind = "x"}',
    ],
)
def test_unmappable_keys_and_values_warn_and_never_fail_the_load(
    tmp_path: Path, hamilton: str
) -> None:
    loaded = _load(tmp_path, f"[hamilton]\n{hamilton}\n")
    codes = [w.code for w in loaded.warnings]
    assert codes == [CONFIG_HAMILTON_DEPRECATED, CONFIG_HAMILTON_UNMAPPED]
    assert loaded.config.extract.workers == 0  # the default, untouched


def test_a_non_table_hamilton_value_warns(tmp_path: Path) -> None:
    loaded = _load(tmp_path, 'hamilton = "on"\n')
    assert [w.code for w in loaded.warnings] == [CONFIG_HAMILTON_UNMAPPED]


def test_mapping_targets_are_real_config_keys() -> None:
    from harness.config.model import CodeanatomyConfig

    defaults = CodeanatomyConfig()
    for rule in MAPPING.values():
        assert hasattr(getattr(defaults, rule.section), rule.key), rule


def test_map_hamilton_keeps_file_order_of_assignments() -> None:
    mapping = map_hamilton({"enable_shadow": True, "cache_path": "c", "max_tasks": 1}, {})
    assert [a.source_key for a in mapping.assignments] == [
        "enable_shadow",
        "cache_path",
        "max_tasks",
    ]
    assert mapping.dropped == ()

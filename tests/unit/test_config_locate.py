"""Positions in TOML text (``harness.config.locate``), the one locator of configuration errors,
``config show`` and preflight blockers: 1-based line, 0-based UTF-8 byte column."""

from __future__ import annotations

import pytest
import tomlkit

from harness.config import locate as locate_module
from harness.config.locate import locate, locate_lines, split_key

TEXT = """\
title = "demo"
hamilton.x = 1
inline = { a = 1 }

[project]
dependencies = [
  "pyarrow==26.0.1",
  "apache-hamilton==1.90.0",
]
notes = \"\"\"
two
lines\"\"\"
scripts = { run = "hamilton.cli:main" }

[[tool.mypy.overrides]]
module = ["hamilton.*", "rustworkx.*"]

[[tool.mypy.overrides]]
module = ["other.*"]

[tool."my.pkg"]
flag = true
"é" = "rustworkx"
"""


@pytest.mark.parametrize(
    ("keys", "value", "position"),
    [
        (("title",), None, (1, 0)),
        (("hamilton",), None, (2, 0)),
        (("inline",), None, (3, 0)),
        (("project",), None, (5, 0)),
        (("project", "dependencies"), "apache-hamilton==1.90.0", (8, 2)),
        (("project", "scripts", "run"), "hamilton.cli:main", (13, 18)),
        (("tool", "mypy", "overrides"), None, (15, 0)),
        (("tool", "mypy", "overrides", "module"), "rustworkx.*", (16, 24)),
        (("tool", "mypy", "overrides", "module"), "other.*", (19, 10)),
        (("tool", "my.pkg"), None, (21, 0)),
        (("tool", "my.pkg", "flag"), None, (22, 0)),
        (("tool", "my.pkg", "é"), "rustworkx", (23, 7)),
        (("project", "missing"), None, None),
        (("project", "dependencies"), "not there", None),
    ],
)
def test_a_place_is_found_by_its_key_path(
    keys: tuple[str, ...], value: str | None, position: tuple[int, int] | None
) -> None:
    assert locate(TEXT, [(keys, value)]) == [position]


def test_many_places_are_found_together_as_each_alone() -> None:
    lookups = [
        (("tool", "mypy", "overrides", "module"), "hamilton.*"),
        (("tool", "mypy", "overrides", "module"), "rustworkx.*"),
        (("project", "dependencies"), "apache-hamilton==1.90.0"),
        (("tool", "my.pkg", "é"), "rustworkx"),
        (("tool", "my.pkg", "flag"), None),
        (("hamilton",), None),
    ]
    together = locate(TEXT, lookups)
    assert together == [locate(TEXT, [lookup])[0] for lookup in lookups]
    # After a multi-line string the lines still count the original text.
    assert together[3] == (23, 7)


def test_scalars_are_found_with_one_parse_and_one_rendering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "[tool.x]\n" + "".join(f'k{i} = ["rustworkx", "a{i}"]\n' for i in range(300))
    parses: list[str] = []
    real_parse = tomlkit.parse

    def counted(source: str) -> tomlkit.TOMLDocument:
        parses.append(source)
        return real_parse(source)

    monkeypatch.setattr(locate_module.tomlkit, "parse", counted)
    found = locate(text, [(("tool", "x", f"k{i}"), "rustworkx") for i in range(300)])
    assert found == [(i + 2, len(f"k{i} = [")) for i in range(300)]
    assert len(parses) == 2  # the classification, then the one batch


@pytest.mark.parametrize("text", ["[engine\nbackend = 1\n", "x = " + "[" * 1000 + "]" * 1000])
def test_text_tomlkit_cannot_read_has_no_places_and_raises_nothing(text: str) -> None:
    assert locate(text, [(("engine", "backend"), None), (("x",), None)]) == [None, None]


def test_locate_lines_gives_the_line_of_each_existing_key() -> None:
    text = "[extract]\n# c\nworkers = 3\n[engine]\nbackend = 'rust'\n"
    paths = [("extract", "workers"), ("engine",), ("engine", "nope")]
    assert locate_lines(text, paths) == {("extract", "workers"): 3, ("engine",): 4}


def test_a_crlf_header_is_a_header() -> None:
    assert locate("[a]\r\nb = 1\r\n[c]\r\n", [(("c",), None)]) == [(3, 0)]


@pytest.mark.parametrize(
    ("dotted", "keys"),
    [("a.b", ("a", "b")), ('tool."my.pkg".x', ("tool", "my.pkg", "x")), (" a . 'b' ", ("a", "b"))],
)
def test_split_key_honours_quotes(dotted: str, keys: tuple[str, ...]) -> None:
    assert split_key(dotted) == keys

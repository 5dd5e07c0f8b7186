"""Requirement strings and requirements-file lines, read by ``packaging`` (one reading for the
``python_external`` extractor and the deletion preflight): a string that is not a requirement
names nothing, and nothing raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends.extract.requirements import (
    RequirementLine,
    normalized_name,
    requirement_lines,
    requirement_name,
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("requests", "requests"),
        ("  Apache_Hamilton==1.90 ", "Apache_Hamilton"),
        ("sf-hamilton[visualization]==1.90.0", "sf-hamilton"),
        ("rustworkx (>=0.18)", "rustworkx"),
        ("pkg @ https://example.org/pkg-1.0.whl", "pkg"),
        ("foo ; python_version < '3.12'", "foo"),
        ("foo==1.*", "foo"),
        ("hamilton is gone", None),
        ("git+https://example.org/apache/hamilton.git", None),
        ("./vendored/pkg", None),
        ("req @ ", None),
        ("[[[", None),
        ("", None),
        ("\x00\xff junk ===", None),
    ],
)
def test_the_name_a_requirement_string_gives(text: str, name: str | None) -> None:
    assert requirement_name(text) == name


def test_names_are_compared_pep_503_normalized() -> None:
    assert normalized_name("Apache_Hamilton") == normalized_name("apache.hamilton")
    assert normalized_name("Apache_Hamilton") == "apache-hamilton"


@given(st.text())
def test_no_text_raises(text: str) -> None:
    name = requirement_name(text)
    assert name is None or isinstance(name, str)
    for line in requirement_lines(text):
        requirement_name(line.text)


def test_requirements_file_lines_leave_out_comments_options_and_continuations() -> None:
    text = (
        "# pinned\n"
        "-r base.txt\n"
        "--index-url https://example.org/simple\n"
        "\n"
        "rustworkx==0.18.1  # scheduling\n"
        "  pyarrow \\\n"
        "    >=26 --hash=sha256:abc\n"
        "pkg @ https://example.org/pkg.whl#sha256=abc\n"
        "  é-pkg\n"
    )
    assert list(requirement_lines(text)) == [
        RequirementLine(5, 0, "rustworkx==0.18.1"),
        RequirementLine(6, 2, "pyarrow     >=26"),
        RequirementLine(8, 0, "pkg @ https://example.org/pkg.whl#sha256=abc"),
        RequirementLine(9, 2, "é-pkg"),
    ]
    assert [requirement_name(line.text) for line in requirement_lines(text)] == [
        "rustworkx",
        "pyarrow",
        "pkg",
        None,
    ]


def test_the_column_is_a_utf8_byte_column() -> None:
    (line,) = requirement_lines("\u00a0\u00a0requests\n")
    assert (line.line, line.col, line.text) == (1, 4, "requests")

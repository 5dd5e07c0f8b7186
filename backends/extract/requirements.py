"""Requirement strings (PEP 508, read by ``packaging``) and the lines of requirements files.

One reading for the two places that ask which distributions a repository declares: the
``python_external`` extractor and the deletion preflight. A string that is not a requirement
names nothing (None), never an exception: the repository's metadata is data.

A requirements file is read as pip writes it: a ``\\`` at the end of a line continues it on
the next; ``#`` at the start of a line or after whitespace starts a comment; a line whose
first character is ``-`` is an option (``-r``, ``-e``, ``--index-url``), and an option after
a requirement (``foo==1.0 --hash=sha256:...``) is dropped. What is left is one requirement
string, or something pip also reads that PEP 508 does not name (a URL, a local path), which
names nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# A comment: `#` at the start or after whitespace; an option after a requirement: ` --name`.
_COMMENT = re.compile(r"(?:^|\s)#.*")
_OPTION = re.compile(r"\s--[A-Za-z].*")


def requirement_name(text: str) -> str | None:
    """The distribution a PEP 508 requirement string names (as written), else None."""
    try:
        return Requirement(text).name
    except InvalidRequirement:
        return None


def normalized_name(name: str) -> str:
    """The PEP 503 normalized form of a distribution name (``Apache_Hamilton`` ->
    ``apache-hamilton``)."""
    return canonicalize_name(name)


@dataclass(frozen=True)
class RequirementLine:
    """One requirement of a requirements file, before it is parsed."""

    line: int
    """1-based number of the line it starts on."""
    col: int
    """0-based UTF-8 byte column where it starts on that line."""
    text: str
    """The requirement string: comments, options and continuations removed."""


def requirement_lines(text: str) -> Iterator[RequirementLine]:
    """The requirement strings of a requirements file, each where it starts."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        start, raw = index, lines[index]
        parts = [raw]
        while parts[-1].endswith("\\") and index + 1 < len(lines):
            parts[-1] = parts[-1][:-1]
            index += 1
            parts.append(lines[index])
        index += 1
        logical = "".join(parts).removesuffix("\\")
        requirement = _OPTION.sub("", _COMMENT.sub("", logical)).strip()
        if not requirement or requirement.startswith("-"):
            continue
        indent = len(raw) - len(raw.lstrip())
        yield RequirementLine(start + 1, len(raw[:indent].encode("utf-8")), requirement)

"""The byte-exact files and symlinks of the ``hostile`` golden repository.

They are generated here, not inside the analysed repository (a generator there would itself be
analysed), and committed. ``write_hostile_files`` is deterministic: the test suite regenerates
them into a temporary folder and compares them byte for byte with the committed copies.
Hand-written hostile files (syntax errors, the sentinel traps) are committed as plain text and
are not produced here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

# Seed of the binary blob; changing it changes a committed fixture.
_BLOB_SEED = 20261121
_BLOB_SIZE = 4096
_HUGE_LINE_BYTES = 1024 * 1024
_DEEP_PARENS = 100_000
_DEEP_LEVELS = 300
# Deepest nesting CPython 3.11 still accepts: 200 parentheses, 100 indentation levels.
_LEGAL_LIST_DEPTH = 190
_LEGAL_IF_DEPTH = 95
_LONG_CHAIN_TERMS = 5000


@dataclass(frozen=True)
class HostileSymlink:
    """A symlink of the hostile repository: where it lives and what it points at."""

    path: str
    target: str


def _binary_blob() -> bytes:
    data = bytearray(random.Random(_BLOB_SEED).randbytes(_BLOB_SIZE))
    # Guarantee the NUL bytes that make the scanner call it binary, whatever the seed.
    data[0:4] = b"\x7fPY\x00"
    return bytes(data)


def _huge_line() -> bytes:
    head = b'PAYLOAD = "'
    tail = b'"'
    body_len = _HUGE_LINE_BYTES - len(head) - len(tail)
    pattern = b"0123456789abcdef"
    body = (pattern * (body_len // len(pattern) + 1))[:body_len]
    # One line, exactly 1 MiB, and no trailing newline.
    return head + body + tail


def _deep_parens() -> bytes:
    return b"x = " + b"(" * _DEEP_PARENS + b"1" + b")" * _DEEP_PARENS + b"\n"


def _deep_lists() -> bytes:
    return b"x = " + b"[" * _DEEP_LEVELS + b"]" * _DEEP_LEVELS + b"\n"


def _deep_ifs() -> bytes:
    lines = [b"x = True\n"]
    lines += [b"    " * depth + b"if x:\n" for depth in range(_DEEP_LEVELS)]
    lines.append(b"    " * _DEEP_LEVELS + b"pass\n")
    return b"".join(lines)


def _legal_deep() -> bytes:
    lines = [
        b'"""Nesting just below CPython\'s limits: valid, but deep for recursive walkers."""\n',
        b"x = " + b"[" * _LEGAL_LIST_DEPTH + b"]" * _LEGAL_LIST_DEPTH + b"\n",
        b"\n",
        b"\n",
        b"def deepest() -> int:\n",
    ]
    lines += [b"    " * (depth + 1) + b"if x:\n" for depth in range(_LEGAL_IF_DEPTH)]
    lines.append(b"    " * (_LEGAL_IF_DEPTH + 1) + b"return 1\n")
    lines.append(b"    return 0\n")
    return b"".join(lines)


def _long_chain() -> bytes:
    # A left-nested BinOp chain: CPython's parser accepts it, but building the ast of it
    # exceeds the recursion limit ("maximum recursion depth exceeded during ast construction").
    return b"total = " + b" + ".join([b"1"] * _LONG_CHAIN_TERMS) + b"\n"


# Repo-relative path -> exact bytes.
HOSTILE_FILES: dict[str, bytes] = {
    "empty.py": b"",
    "nul_byte.py": b'"""A NUL byte follows."""\nx = 1\n\x00\ny = 2\n',
    "binary_blob.py": _binary_blob(),
    "invalid_utf8.py": (
        b'"""Invalid UTF-8 below and no coding cookie."""\n'
        b'name = "caf\xe9"\nbroken = "\xff\xfe\xfd"\n'
    ),
    "bad_cookie.py": b'# -*- coding: no-such-codec -*-\n"""An unknown codec."""\nx = 1\n',
    "inconsistent_tabs.py": b"def f(x):\n\tif x:\n        return 1\n\treturn 2\n",
    "huge_line.py": _huge_line(),
    "deep_parens.py": _deep_parens(),
    "deep_lists.py": _deep_lists(),
    "deep_ifs.py": _deep_ifs(),
    "legal_deep.py": _legal_deep(),
    "long_chain.py": _long_chain(),
}

HOSTILE_SYMLINKS: tuple[HostileSymlink, ...] = (
    # A loop of two file symlinks.
    HostileSymlink("loop_a.py", "loop_b.py"),
    HostileSymlink("loop_b.py", "loop_a.py"),
    # A directory symlink to its own parent: a walker that follows it never ends.
    HostileSymlink("loop_dir", "."),
    # An escape whose target exists wherever the repository is copied: surplus ".." stop at
    # "/", so this is /etc/hosts at any depth (below 16 levels).
    HostileSymlink("escape.py", "../" * 16 + "etc/hosts"),
    # Escapes into the sibling golden repository: real Python outside this root when the
    # repository sits in golden_repos/ (dangling when it is copied alone). A walker that
    # follows escape_dir shows up as modules named escape_dir.*.
    HostileSymlink("escape_sibling.py", "../packages/packages/util.py"),
    HostileSymlink("escape_dir", "../packages/packages"),
)


def write_hostile_files(root: Path) -> list[Path]:
    """Write every generated file and symlink of the hostile repository under ``root``.

    Existing files are overwritten and existing symlinks replaced. Returns the written paths,
    sorted.
    """
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for rel, data in sorted(HOSTILE_FILES.items()):
        path = root / rel
        path.write_bytes(data)
        written.append(path)
    for link in HOSTILE_SYMLINKS:
        path = root / link.path
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(link.target)
        written.append(path)
    return sorted(written)

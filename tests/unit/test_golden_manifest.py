"""The golden manifest loads, validates, and lists repositories that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.golden.expected import load_expected
from harness.golden.manifest import (
    Manifest,
    ManifestError,
    RepoEntry,
    default_manifest_path,
    golden_root,
    load_manifest,
)

MANIFEST = load_manifest()
REQUIRED_REPOS = (
    "packages", "oop", "scopes", "imports", "unicode_layout", "callgraph", "hostile", "realistic",
)  # fmt: skip

GOOD_SDIST = """
[[sdist]]
name = "demo"
version = "1.0"
filename = "demo-1.0.tar.gz"
url = "https://files.pythonhosted.org/packages/aa/bb/demo-1.0.tar.gz"
sha256 = "{sha}"
"""
CORPUS = '[corpus]\nname = "c"\nsource = "stdlib"\n'
REPO = '[[repo]]\nname = "{name}"\npath = "{path}"\ndescription = "d"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_manifest_is_in_golden_repos() -> None:
    assert default_manifest_path() == golden_root() / "manifest.toml"
    assert Path(MANIFEST.root) == golden_root()


def test_manifest_lists_every_required_repo() -> None:
    assert set(REQUIRED_REPOS) <= {entry.name for entry in MANIFEST.repo}


def test_manifest_pins_at_least_three_sdists() -> None:
    assert len(MANIFEST.sdist) >= 3
    assert all(s.url.startswith("https://files.pythonhosted.org/") for s in MANIFEST.sdist)


def test_manifest_describes_the_stdlib_corpus_and_synthetic_defaults() -> None:
    assert MANIFEST.corpus.source == "stdlib"
    assert {"test", "tests", "idlelib", "tkinter", "site-packages"} <= set(MANIFEST.corpus.exclude)
    assert MANIFEST.synthetic.files == 2000


@pytest.mark.parametrize("entry", MANIFEST.repo, ids=lambda e: e.name)
def test_listed_repo_has_readme_and_expected_facts(entry: RepoEntry) -> None:
    folder = MANIFEST.repo_dir(entry)
    assert (folder / "README.md").is_file()
    assert load_expected(folder / "expected.json").repo == entry.name
    assert any(p.suffix == ".py" for p in folder.rglob("*.py"))


def test_every_repo_folder_is_listed() -> None:
    folders = {p.name for p in golden_root().iterdir() if p.is_dir()}
    assert folders == {entry.path for entry in MANIFEST.repo}


def test_repo_named_finds_and_rejects() -> None:
    assert MANIFEST.repo_named("oop").path == "oop"
    with pytest.raises(KeyError, match="nope"):
        MANIFEST.repo_named("nope")


def test_minimal_manifest_loads_with_defaults(tmp_path: Path) -> None:
    manifest = load_manifest(_write(tmp_path, "manifest_version = 1\n" + CORPUS))
    assert manifest == Manifest(manifest_version=1, corpus=manifest.corpus, root=str(tmp_path))
    assert manifest.synthetic.seed == 0


SHA = "a" * 64


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "manifest_version = 1\n" + CORPUS + "[[repo]]\nname = 3\n",
            r"Expected `str`.*\$\.repo\[0\]\.name",
        ),
        (CORPUS, r"missing required field `manifest_version`"),
        (
            "manifest_version = 2\n" + CORPUS,
            r"unsupported manifest_version 2.*\$\.manifest_version",
        ),
        ("manifest_version = 1\ncolour = 1\n" + CORPUS, r"unknown field `colour`$"),
        ('manifest_version = 1\nroot = "/x"\n' + CORPUS, r"set by the loader.*\$\.root"),
        ("manifest_version = 1\n[corpus]\nname = 'c'\nsource = 'pypi'\n", r"\$\.corpus\.source"),
        (
            "manifest_version = 1\n" + CORPUS + REPO.format(name="a", path="../x"),
            r"\$\.repo\[0\]\.path",
        ),
        (
            "manifest_version = 1\n" + CORPUS + REPO.format(name="A b", path="x"),
            r"\$\.repo\[0\]\.name",
        ),
        (
            "manifest_version = 1\n"
            + CORPUS
            + REPO.format(name="a", path="x")
            + REPO.format(name="a", path="y"),
            r"duplicate name 'a'.*\$\.repo\[1\]\.name",
        ),
        (
            "manifest_version = 1\n" + CORPUS + GOOD_SDIST.format(sha="XYZ"),
            r"\$\.sdist\[0\]\.sha256",
        ),
        (
            "manifest_version = 1\n"
            + CORPUS
            + GOOD_SDIST.format(sha=SHA).replace("https://", "http://"),
            r"https.*\$\.sdist\[0\]\.url",
        ),
        (
            "manifest_version = 1\n"
            + CORPUS
            + GOOD_SDIST.format(sha=SHA).replace('version = "1.0"', 'version = "2.0"'),
            r"does not match demo-2\.0.*\$\.sdist\[0\]\.filename",
        ),
        ("manifest_version = 1\n" + CORPUS + "[synthetic]\nfiles = 0\n", r"\$\.synthetic\.files"),
        ("manifest_version = 1\n[corpus\n", r"invalid TOML"),
    ],
)
def test_broken_manifest_names_file_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ManifestError, match=fragment) as info:
        load_manifest(path)
    assert str(info.value).startswith(str(path))


def test_missing_manifest_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load_manifest(tmp_path / "absent.toml")

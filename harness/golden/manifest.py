"""The golden manifest (``golden_repos/manifest.toml``) as validated, immutable values."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import msgspec

MANIFEST_VERSION = 1
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")


class ManifestError(ValueError):
    """The manifest cannot be read or violates a rule; the message names the file and field."""


class RepoEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One authored golden repository."""

    name: str
    path: str
    description: str
    tags: tuple[str, ...] = ()


class SdistEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One pinned source distribution from PyPI."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str


class CorpusEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The real corpus: the running interpreter's standard library, minus ``exclude``."""

    name: str
    source: Literal["stdlib"]
    exclude: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = (".py",)


class SyntheticEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Defaults of the synthetic repository generator."""

    seed: int = 0
    files: int = 2000


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole manifest. ``root`` is the folder holding the manifest (set by the loader)."""

    manifest_version: int
    corpus: CorpusEntry
    repo: tuple[RepoEntry, ...] = ()
    sdist: tuple[SdistEntry, ...] = ()
    synthetic: SyntheticEntry = SyntheticEntry()
    root: str = ""

    def repo_dir(self, entry: RepoEntry) -> Path:
        """The folder of one authored repository."""
        return Path(self.root) / entry.path

    def repo_named(self, name: str) -> RepoEntry:
        """The repository called ``name``; KeyError names the unknown repository."""
        for entry in self.repo:
            if entry.name == name:
                return entry
        raise KeyError(f"no golden repository named {name!r}")


def project_root() -> Path:
    """The project checkout that holds ``harness/`` and ``golden_repos/``."""
    return Path(__file__).resolve().parents[2]


def golden_root() -> Path:
    """The ``golden_repos`` folder of this checkout."""
    return project_root() / "golden_repos"


def default_manifest_path() -> Path:
    """``golden_repos/manifest.toml`` of this checkout."""
    return golden_root() / "manifest.toml"


def load_manifest(path: Path | None = None) -> Manifest:
    """Read, decode and validate a manifest; ManifestError names the file and the field."""
    path = default_manifest_path() if path is None else path
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: invalid TOML: {exc}") from exc
    if "root" in raw:
        raise ManifestError(f"{path}: `root` is set by the loader, not in the file - at `$.root`")
    try:
        manifest = msgspec.convert(raw, type=Manifest)
    except msgspec.ValidationError as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    problems = _problems(manifest)
    if problems:
        raise ManifestError(f"{path}: " + "; ".join(problems))
    return msgspec.structs.replace(manifest, root=str(path.parent))


def _problems(manifest: Manifest) -> list[str]:
    problems: list[str] = []
    if manifest.manifest_version != MANIFEST_VERSION:
        problems.append(
            f"unsupported manifest_version {manifest.manifest_version} "
            f"(expected {MANIFEST_VERSION}) - at `$.manifest_version`"
        )
    problems += _unique([r.name for r in manifest.repo], "repo")
    problems += _unique([s.name for s in manifest.sdist], "sdist")
    for i, repo in enumerate(manifest.repo):
        at = f"`$.repo[{i}]"
        if not _NAME_RE.match(repo.name):
            problems.append(f"name {repo.name!r} is not a lower-case identifier - at {at}.name`")
        if not _is_safe_relative(repo.path):
            problems.append(f"path {repo.path!r} must be relative and stay inside - at {at}.path`")
    for i, sd in enumerate(manifest.sdist):
        problems += _sdist_problems(sd, f"`$.sdist[{i}]")
    if manifest.synthetic.files < 1:
        problems.append("files must be at least 1 - at `$.synthetic.files`")
    for i, suffix in enumerate(manifest.corpus.suffixes):
        if not suffix.startswith("."):
            problems.append(f"suffix {suffix!r} must start with '.' - at `$.corpus.suffixes[{i}]`")
    return problems


def _sdist_problems(sd: SdistEntry, at: str) -> list[str]:
    problems: list[str] = []
    if not _SHA256_RE.match(sd.sha256):
        problems.append(f"sha256 must be 64 lower-case hex digits - at {at}.sha256`")
    if not sd.url.startswith("https://"):
        problems.append(f"url must use https - at {at}.url`")
    if sd.url.rsplit("/", 1)[-1] != sd.filename:
        problems.append(f"url does not end with filename {sd.filename!r} - at {at}.url`")
    if not sd.filename.endswith(_ARCHIVE_SUFFIXES):
        problems.append(f"filename {sd.filename!r} is not a tar or zip archive - at {at}.filename`")
    if not _is_safe_relative(sd.filename) or "/" in sd.filename:
        problems.append(f"filename {sd.filename!r} must be a bare file name - at {at}.filename`")
    if f"{sd.name}-{sd.version}" != _archive_stem(sd.filename).replace("_", "-"):
        problems.append(
            f"filename {sd.filename!r} does not match {sd.name}-{sd.version} - at {at}.filename`"
        )
    return problems


def _archive_stem(filename: str) -> str:
    for suffix in _ARCHIVE_SUFFIXES:
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def _unique(names: list[str], table: str) -> list[str]:
    seen: dict[str, int] = {}
    problems: list[str] = []
    for i, name in enumerate(names):
        if name in seen:
            problems.append(
                f"duplicate name {name!r} (first at index {seen[name]}) - at `$.{table}[{i}].name`"
            )
        seen.setdefault(name, i)
    return problems


def _is_safe_relative(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


def manifest_to_builtins(manifest: Manifest) -> dict[str, Any]:
    """The manifest as plain JSON-ready data (for ``golden list --json``)."""
    data: dict[str, Any] = msgspec.to_builtins(manifest)
    return data

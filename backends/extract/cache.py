"""Per-file result cache keyed by content: an unchanged file is never parsed twice.

Key = sha256 over (extractor, extractor VERSION, contract version, path, module, is_package,
sha256 of the canonical text). Value = the extractor's rows as Arrow IPC plus its warnings,
so a warm run concatenates record batches instead of rebuilding Python rows.

scip is cached per file too, but its key also covers the file's forward import closure and
its value is its own (``backends/extract/scip/closure.py`` and ``stage.py``): this module
stores those entries as bytes (:meth:`ResultCache.get_bytes`, :meth:`ResultCache.put_bytes`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import msgspec

from backends.contract.schemas import CONTRACT_VERSION
from backends.extract.result import FileWarning


class CachedResult(msgspec.Struct, frozen=True):
    """What one extractor produced for one file: IPC stream bytes and warnings."""

    ipc: bytes
    warnings: list[FileWarning]


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CachedResult)


def cache_key(
    extractor: str, version: str, path: str, module: str | None, is_package: bool, text_sha: str
) -> str:
    parts = [extractor, version, CONTRACT_VERSION, path, module or "", str(is_package), text_sha]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    explicit = os.environ.get("CODEANATOMY_CACHE")
    if explicit:
        return Path(explicit) / "extract"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "codeanatomy" / "extract"


@dataclass(frozen=True)
class ResultCache:
    """A directory of cached results; ``root is None`` disables caching."""

    root: Path | None

    def _file(self, extractor: str, key: str) -> Path:
        assert self.root is not None
        return self.root / extractor / key[:2] / f"{key}.msgpack"

    def _read(self, extractor: str, key: str) -> bytes | None:
        if self.root is None:
            return None
        try:
            return self._file(extractor, key).read_bytes()
        except OSError:
            return None

    def get(self, extractor: str, key: str) -> CachedResult | None:
        data = self._read(extractor, key)
        try:
            return None if data is None else _decoder.decode(data)
        except msgspec.DecodeError:
            return None  # a torn or stale entry is a miss, never an error

    def get_bytes(self, extractor: str, key: str) -> bytes | None:
        """The stored bytes of an entry, None when there is none (or no cache)."""
        return self._read(extractor, key)

    def put(self, extractor: str, key: str, value: CachedResult) -> None:
        self.put_bytes(extractor, key, _encoder.encode(value))

    def put_bytes(self, extractor: str, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; a concurrent reader sees the old entry or this one."""
        if self.root is None:
            return
        target = self._file(extractor, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename so a concurrent reader never sees a partial entry.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

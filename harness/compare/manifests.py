"""Manifest parity: the two runs' ``run.json`` compared with deepdiff, volatile paths excluded.

What one backend records about a run (spec hash, repo fingerprint, contract and library
versions, every input and output table's Delta version, rows, schema hash and fingerprint,
warnings, view row counts) must match what the other records. Which backend served, when,
how long it took and how much memory, its per-operator metrics, where its files are (URIs)
and what its folder held before the build (``version_before``) differ by nature and are
excluded. Inputs and outputs are compared by table name, not by list position.
"""

from __future__ import annotations

from typing import Any

import msgspec

from harness.run.manifest import RunManifest

#: Paths that legitimately differ between two runs of the same inputs (deepdiff regexes).
VOLATILE_PATHS: tuple[str, ...] = (
    r"^root\['(backend|engine_version|timings|started_at|finished_at|served_by|metrics|resources)'\]",
    r"\['uri'\]$",
    # Where a table sits relative to its run: a shadow side reads ../evidence, a lone run
    # evidence/ (not repo.path, which names the analysed repository).
    r"^root\['(inputs|outputs)'\]\['[^']+'\]\['path'\]$",
    # What the run folder held before the build: null in a fresh folder, the previous version
    # in an updated one, absent from an older run.json. An incremental build and a fresh one
    # of the same repository differ there by nature; their content is what must match.
    r"^root\['(inputs|outputs)'\]\['[^']+'\]\['version_before'\]$",
)


class ManifestDifference(msgspec.Struct, frozen=True, kw_only=True):
    """One differing path of the two manifests (deepdiff's report, as text)."""

    path: str
    change: str
    primary: str | None = None
    candidate: str | None = None


def _plain(manifest: RunManifest) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(manifest)
    for field in ("inputs", "outputs"):
        data[field] = {entry["table"]: entry for entry in data[field]}
    return data


def _text(value: object) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def manifest_differences(
    primary: RunManifest, candidate: RunManifest
) -> tuple[ManifestDifference, ...]:
    """Every non-volatile difference between two manifests, sorted by path."""
    # Imported here: deepdiff loads pandas when it is installed (about a second), which a
    # build that compares nothing must not pay.
    from deepdiff import DeepDiff

    diff = DeepDiff(
        _plain(primary),
        _plain(candidate),
        exclude_regex_paths=list(VOLATILE_PATHS),
        ignore_order=True,
        verbose_level=2,
    )
    found: list[ManifestDifference] = []
    for change, items in diff.items():
        if isinstance(items, dict):
            for path, detail in items.items():
                if isinstance(detail, dict) and {"old_value", "new_value"} <= detail.keys():
                    old, new = detail["old_value"], detail["new_value"]
                elif change.endswith("_removed"):
                    old, new = detail, None
                else:
                    old, new = None, detail
                found.append(
                    ManifestDifference(
                        path=str(path), change=change, primary=_text(old), candidate=_text(new)
                    )
                )
        else:
            found.extend(ManifestDifference(path=str(p), change=change) for p in items)
    return tuple(sorted(found, key=lambda d: (d.path, d.change)))

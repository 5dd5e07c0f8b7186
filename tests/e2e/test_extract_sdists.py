"""Stage 0 on the real PyPI sdists pinned in the manifest (downloaded once, sha256-verified)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.contract.schemas import EXTRACTORS
from backends.extract.runner import ExtractOptions, extract
from harness.golden.fetch import default_cache_dir, fetch_sdists
from harness.golden.manifest import load_manifest

pytestmark = pytest.mark.slow
MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def sdists() -> dict[str, Path]:
    return {f.name: f.source_root for f in fetch_sdists(MANIFEST, default_cache_dir())}


@pytest.mark.parametrize("name", [s.name for s in MANIFEST.sdist])
def test_sdist_yields_all_nine_evidence_tables(
    sdists: dict[str, Path], name: str, tmp_path: Path
) -> None:
    summary = extract(sdists[name], tmp_path / "run", ExtractOptions(workers=2, cache_dir=None))
    assert summary.all_accounted
    assert summary.python_files_ok >= 10
    for extractor in EXTRACTORS:
        assert summary.tables[extractor] > 0, extractor
    assert "SCIP_FAILED" not in summary.warnings_by_code

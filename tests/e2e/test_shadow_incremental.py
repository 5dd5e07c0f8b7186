"""``codeanatomy shadow REPO --out RUN --incremental`` end to end (both real engines, golden
``callgraph``): on a fresh folder the check is not evaluated and the run fails; after an edit,
each side's incremental build is compared with a fresh one and the report says it is identical."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backends.extract.scip.install import find_binary

ROOT = Path(__file__).parents[2]
CLI = Path(sys.executable).parent / "codeanatomy"
GOLDEN = ROOT / "golden_repos" / "callgraph"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_binary() is None or shutil.which("node") is None,
        reason="scip-python not installed (needs node on PATH): without scip no side is complete",
    ),
]


def _shadow(repo: Path, out: Path, cwd: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [str(CLI), "shadow", str(repo), "--out", str(out), "--incremental", "--json"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def _incremental(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    (repo,) = report["repos"]
    return [
        (f["code"], f["severity"], f["table"])
        for f in repo["result"]["findings"]
        if f["code"].startswith("INCREMENTAL_")
    ]


def test_shadow_incremental_compares_each_side_with_a_fresh_build(tmp_path: Path) -> None:
    repo = tmp_path / "callgraph"
    shutil.copytree(GOLDEN, repo)
    out = tmp_path / "run"
    code, report = _shadow(repo, out, tmp_path)
    # Nothing to compare yet: not evaluated (sev2), never a pass.
    assert code == 1 and report["verdict"] == "fail"
    assert _incremental(report) == [
        ("INCREMENTAL_NOT_EVALUATED", "sev2", "primary"),
        ("INCREMENTAL_NOT_EVALUATED", "sev2", "candidate"),
    ]
    target = sorted(repo.rglob("*.py"))[0]
    target.write_text(
        target.read_text(encoding="utf-8") + "\n\ndef _added():\n    return 1\n", encoding="utf-8"
    )
    code, report = _shadow(repo, out, tmp_path)
    found = _incremental(report)
    assert {(c, s, t) for c, s, t in found} <= {
        ("INCREMENTAL_IDENTICAL", "ok", "primary"),
        ("INCREMENTAL_IDENTICAL", "ok", "candidate"),
        ("INCREMENTAL_CACHE_ROWS", "sev3", "primary"),
        ("INCREMENTAL_CACHE_ROWS", "sev3", "candidate"),
    }, found
    assert sorted(t for _, _, t in found) == ["candidate", "primary"], found
    assert code == 0 and report["verdict"] == "pass", report["repos"][0]["result"]["findings"]
    assert (out / "fresh" / "evidence").is_dir()
    # The pull-request comment says the check ran, for each side.
    markdown = (out / "report" / "parity.md").read_text(encoding="utf-8")
    assert markdown.count("incremental build vs a fresh one: identical") == 2, markdown

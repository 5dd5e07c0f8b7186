"""``codeanatomy shadow REPO --out RUN --incremental`` end to end (both real engines, golden
``callgraph``): on a fresh folder the check is not evaluated and the run fails; after an edit,
each side's incremental build is compared with a fresh one and the report says it is identical.
The same option of ``golden shadow`` (every golden repository, run again unchanged) and of
``build --backend shadow`` (whose shadow Result is printed and written to ``OUT/report``)."""

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


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=1800,
        check=False,
    )


def _by_repo(report: dict[str, Any]) -> dict[str, set[tuple[str, str, str]]]:
    return {
        r["name"]: {
            (f["code"], f["severity"], f["table"])
            for f in r["result"]["findings"]
            if f["code"].startswith("INCREMENTAL_")
        }
        for r in report["repos"]
    }


def test_golden_shadow_incremental_is_not_evaluated_then_identical(tmp_path: Path) -> None:
    out = tmp_path / "golden-run"
    first = _run("golden", "shadow", "--out", out, "--incremental", "--json", cwd=ROOT)
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)
    assert report["verdict"] == "fail"
    found = _by_repo(report)
    assert "callgraph" in found and len(found) >= 2, found
    not_evaluated = {
        ("INCREMENTAL_NOT_EVALUATED", "sev2", "primary"),
        ("INCREMENTAL_NOT_EVALUATED", "sev2", "candidate"),
    }
    assert all(f == not_evaluated for f in found.values()), found
    # Run again, nothing changed: each side of each repository rebuilt from its previous
    # state, compared with a fresh build.
    second = _run("golden", "shadow", "--out", out, "--incremental", "--json", cwd=ROOT)
    report = json.loads(second.stdout)
    found = _by_repo(report)
    agreed = {"INCREMENTAL_IDENTICAL", "INCREMENTAL_CACHE_ROWS"}
    for name, findings in found.items():
        assert {c for c, _, _ in findings} <= agreed, (name, findings)
        assert sorted(t for _, _, t in findings) == ["candidate", "primary"], (name, findings)
    assert second.returncode == 0 and report["verdict"] == "pass", found
    assert (out / "callgraph" / "fresh" / "evidence").is_dir()


def test_build_backend_shadow_incremental_reports_the_check(tmp_path: Path) -> None:
    repo = tmp_path / "callgraph"
    shutil.copytree(GOLDEN, repo)
    out = tmp_path / "run"

    def build() -> tuple[str, set[tuple[str, str, str]]]:
        done = _run(
            "build", repo, "--out", out, "--backend", "shadow", "--incremental", cwd=tmp_path
        )
        # The primary's outcome decides the exit, as for every build; the check is reported.
        assert done.returncode == 0, done.stderr
        report = json.loads((out / "report" / "parity.json").read_text(encoding="utf-8"))
        return done.stdout, _by_repo(report)["callgraph"]

    stdout, found = build()
    assert found == {
        ("INCREMENTAL_NOT_EVALUATED", "sev2", "primary"),
        ("INCREMENTAL_NOT_EVALUATED", "sev2", "candidate"),
    }
    assert "shadow: sev2 (blocks)" in stdout, stdout
    assert stdout.count("sev2 INCREMENTAL_NOT_EVALUATED") == 2, stdout
    target = sorted(repo.rglob("*.py"))[0]
    target.write_text(
        target.read_text(encoding="utf-8") + "\n\ndef _added():\n    return 1\n", encoding="utf-8"
    )
    stdout, found = build()
    assert {c for c, _, _ in found} <= {"INCREMENTAL_IDENTICAL", "INCREMENTAL_CACHE_ROWS"}, found
    assert sorted(t for _, _, t in found) == ["candidate", "primary"], found
    assert stdout.count("incremental build vs a fresh one: identical") == 2, stdout
    assert (out / "fresh" / "evidence").is_dir()

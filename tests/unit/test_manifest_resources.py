"""``run.json`` records the build's peak memory (``resources``): the process's own peak and the
largest peak of its finished children, from ``getrusage`` (the figure a bounded-memory build
is benchmarked on). It is volatile: two runs never differ by it in manifest parity."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec

from harness.compare.manifests import manifest_differences
from harness.run.build import run_build
from harness.run.manifest import Resources, read_manifest
from harness.run.request import BuildRequest
from tests.unit.test_manifest_versions import BACKEND, _repo


def test_a_build_records_its_peak_memory(tmp_path: Path) -> None:
    run = tmp_path / "run"
    manifest = run_build(BACKEND, BuildRequest(repo=_repo(tmp_path, "a.py"), out=run)).manifest
    assert manifest.resources is not None
    # A Python process with pyarrow and deltalake loaded holds tens of MiB at least.
    assert manifest.resources.peak_rss_mb > 20
    data = json.loads((run / "run.json").read_text())
    assert set(data["resources"]) == {"peak_rss_mb", "children_peak_rss_mb"}


def test_the_children_peak_is_the_largest_finished_child() -> None:
    """A child that held ~500 MiB shows in ``children_peak_rss_mb``, not in the process's own
    (which starts afresh at ``exec``: a large parent, such as a pytest worker, does not count)."""
    script = (
        "import subprocess, sys\n"
        "from harness.run.manifest import measure_resources\n"
        "before = measure_resources()\n"
        "subprocess.run([sys.executable, '-c', 'b = bytearray(500 * 2**20); b[::4096] = "
        "bytes(len(b[::4096]))'], check=True)\n"
        "after = measure_resources()\n"
        "print(before.children_peak_rss_mb, after.children_peak_rss_mb, after.peak_rss_mb)\n"
    )
    # Started by a parent holding ~600 MiB: on Linux, getrusage's own peak would carry that
    # over exec; the recorded one must not.
    parent = (
        "import subprocess, sys\n"
        "held = bytearray(600 * 2**20); held[::4096] = bytes(len(held[::4096]))\n"
        "sys.stdout.write(subprocess.run([sys.executable, '-c', sys.argv[1]], check=True,"
        " capture_output=True, text=True).stdout)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", parent, script], check=True, capture_output=True, text=True
    ).stdout.split()
    before, after, own = (float(x) for x in out)
    assert before == 0.0
    assert after >= 500
    assert own < 500


def test_peak_memory_never_makes_two_runs_differ(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "a.py")
    one = run_build(BACKEND, BuildRequest(repo=repo, out=tmp_path / "one")).manifest
    two = run_build(BACKEND, BuildRequest(repo=repo, out=tmp_path / "two")).manifest
    heavier = msgspec.structs.replace(
        two, resources=Resources(peak_rss_mb=9e5, children_peak_rss_mb=7e5)
    )
    assert not any("resources" in d.path for d in manifest_differences(one, heavier))
    assert not any(
        "resources" in d.path
        for d in manifest_differences(one, msgspec.structs.replace(two, resources=None))
    )
    # The comparison does see the rest: a changed row count is a difference.
    other = msgspec.structs.replace(two, repo=msgspec.structs.replace(two.repo, files=99))
    assert any("files" in d.path for d in manifest_differences(one, other))


def test_a_manifest_written_before_resources_still_reads(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_build(BACKEND, BuildRequest(repo=_repo(tmp_path, "a.py"), out=run))
    data = json.loads((run / "run.json").read_text())
    del data["resources"]
    (run / "run.json").write_text(json.dumps(data))
    assert read_manifest(run / "run.json").resources is None

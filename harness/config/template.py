"""The commented default ``codeanatomy.toml`` (``config init``), and the atomic file write.

Every active value equals the model's default (a unit test holds them together), so a fresh
file documents the defaults without changing behaviour.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Final

DEFAULT_CONFIG_TOML: Final = """\
# codeanatomy configuration (docs/DESIGN.md §9). Every value below is the default.
# Relative paths are relative to the folder of this file.
# `codeanatomy config show` prints the effective values and where each one came from;
# `codeanatomy config validate` checks this file.

[engine]
# Which engine serves builds: "legacy", "rust", or "shadow" (the primary serves, the
# candidate runs beside it and is compared). CODEANATOMY_BACKEND overrides this.
backend = "legacy"
# shadow = true is backend = "shadow" with the backend above as the primary.
shadow = false
primary = "legacy"
candidate = "rust"
# true (or "legacy") sends every build to the legacy backend. CODEANATOMY_KILL_SWITCH and
# `codeanatomy killswitch engage` take precedence over this value.
kill_switch = false
# Folder of the kill-switch state, lock and audit log.
state_dir = ".codeanatomy"
# Seconds a shadow candidate may run before it is killed (--candidate-timeout overrides).
candidate_timeout_s = 1800.0

[parity]
# Tolerances and the allow-list of known differences.
# policy = "parity_policy.toml"

# The parity history Delta table every shadow suite appends to.
history = "reports/parity_history"
# Consecutive clean parity runs the cutover gate requires.
cutover_runs = 5

[parity.thresholds]
# The most findings of each severity a parity gate tolerates (sev3 unlimited when absent).
max_sev1 = 0
max_sev2 = 0
# max_sev3 = 100

[extract]
# Every command that extracts applies these (extract, build, shadow, the gates); its flags win.
# The extractors `codeanatomy extract` runs; all nine when absent (a build runs all nine).
# extractors = ["repo_scan", "ast", "cst", "tree_sitter", "bytecode", "symtable", "scip",
#               "python_imports", "python_external"]
# true: the per-user cache folder; false: no cache; a string: that folder.
cache = true
# Worker processes; 0 means one per core.
workers = 0
# Time limit of one extractor on one file, in seconds.
file_timeout_s = 60.0
# Files larger than this many bytes are not read (SCAN_FILE_TOO_LARGE).
max_file_bytes = 5242880
# scip-python indexers run side by side, each on a shard of the files; 0: one per two cores.
scip_shards = 0

[gates]
# Where `codeanatomy gate` writes its verdicts.
out = "reports/gates"
# The release checklist fails evidence older than this (hours).
max_evidence_age_h = 168.0
# The pytest-benchmark report of `make bench`; the perf gate reads the bench_*.json reports the
# benchmarks write beside it. Then the perf gate's budgets.
bench_json = "reports/bench.json"
min_semantic_speedup = 10.0
max_warm_extract_ratio = 0.1

[maintenance]
# codeanatomy maintain (and builds into a folder that already holds one): compact a table when
# this many of its files are below target_file_size (bytes); vacuum files removed more than
# vacuum_retention_hours ago that no run.json or changes cursor still reads; checkpoint every
# checkpoint_interval commits; the parity history once it holds more than history_max_files.
target_file_size = 104857600
min_files_to_compact = 4
vacuum_retention_hours = 168
checkpoint_interval = 10
history_max_files = 32

[storage]
# Options of every s3:// location (--out, compare, [parity].history), over the AWS_* variables;
# ${NAME} is read from the environment, so no secret needs to sit in this file.
# storage_options = { AWS_ENDPOINT_URL = "http://127.0.0.1:8333", AWS_REGION = "us-east-1",
#                     AWS_ACCESS_KEY_ID = "${CI_S3_KEY}",
#                     AWS_SECRET_ACCESS_KEY = "${CI_S3_SECRET}" }
"""


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (temp file in the same folder + os.replace)."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            shutil.copymode(path, temp)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

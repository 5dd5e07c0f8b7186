"""A repository whose every file that Python or node could pick up at start-up is a trap.

Each trap, when imported or executed, creates ``<sentinels>/<label>-<pid>`` and nothing else:
the pid tells the process that ran it apart from the one the user started. The traps use only
the built-in ``posix`` module, so even a trap that shadows ``os`` can write its sentinel.
"""

from __future__ import annotations

from pathlib import Path

# Standard-library modules that interpreters and multiprocessing import at start-up or soon
# after, and names of packages codeanatomy itself imports in its children.
STDLIB_NAMES = (
    "signal",
    "os",
    "types",
    "site",
    "selectors",
    "socket",
    "struct",
    "pickle",
    "threading",
    "weakref",
    "tempfile",
    "runpy",
    "tokenize",
    "ast",
    "json",
    "random",
)
STARTUP_HOOKS = ("sitecustomize", "usercustomize", "conftest", "setup", "build_backend")
OUR_PACKAGES = ("backends", "harness", "msgspec", "pyarrow", "deltalake", "typer")


def trap_source(sentinels: Path, label: str) -> str:
    """Python source that records ``label`` and the running pid under ``sentinels``."""
    target = str(sentinels / label)
    return (
        f'"""Trap {label}: importing or executing this file leaves a sentinel."""\n'
        "import posix as _posix\n"
        f"_fd = _posix.open({target!r} + '-' + str(_posix.getpid()), "
        "_posix.O_WRONLY | _posix.O_CREAT, 0o644)\n"
        "_posix.close(_fd)\n"
    )


def _shell_trap(sentinels: Path, label: str) -> str:
    return f'#!/bin/sh\ntouch "{sentinels / label}-$$"\nexit 97\n'


def write_trap_repo(repo: Path, sentinels: Path) -> Path:
    """Write the trap repository at ``repo`` (created) and return it."""
    repo.mkdir(parents=True)
    sentinels.mkdir(parents=True, exist_ok=True)
    for name in (*STDLIB_NAMES, *STARTUP_HOOKS):
        (repo / f"{name}.py").write_text(trap_source(sentinels, name), encoding="utf-8")
    for name in OUR_PACKAGES:
        (repo / name).mkdir()
        (repo / name / "__init__.py").write_text(
            trap_source(sentinels, f"pkg_{name}"), encoding="utf-8"
        )
    # A .pth file runs its `import` lines wherever a site directory is processed.
    (repo / "trap.pth").write_text(
        f"import posix; posix.close(posix.open({str(sentinels / 'pth')!r} + '-' + "
        "str(posix.getpid()), posix.O_WRONLY | posix.O_CREAT, 0o644))\n",
        encoding="utf-8",
    )
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "build_backend"\nbackend-path = ["."]\n'
        '\n[project]\nname = "trap"\nversion = "0"\ndependencies = ["requests"]\n'
        '\n[project.entry-points."pytest11"]\ntrap = "conftest"\n',
        encoding="utf-8",
    )
    # node: a fake `node` and `typescript` where a careless PATH or module lookup finds them.
    for bin_dir in (repo, repo / "node_modules" / ".bin"):
        bin_dir.mkdir(parents=True, exist_ok=True)
        node = bin_dir / "node"
        node.write_text(_shell_trap(sentinels, "node"), encoding="utf-8")
        node.chmod(0o755)
    typescript = repo / "node_modules" / "typescript"
    typescript.mkdir(parents=True)
    (typescript / "package.json").write_text(
        '{"name": "typescript", "version": "99.0.0", "main": "index.js"}\n', encoding="utf-8"
    )
    marker = str(sentinels / "typescript")
    (typescript / "index.js").write_text(
        f"require('fs').writeFileSync({marker!r} + '-' + process.pid, '');\n", encoding="utf-8"
    )
    # Real code to analyse, which calls into the traps by name (parsed, never run).
    (repo / "app.py").write_text(
        "import signal\nimport types\n\n\n"
        "def handler(signum, frame):\n    return types.SimpleNamespace(signum=signum)\n\n\n"
        "def install():\n    signal.signal(signal.SIGTERM, handler)\n    return handler(0, None)\n",
        encoding="utf-8",
    )
    return repo


def sentinels_left(sentinels: Path, allowed_pid: int | None = None) -> list[str]:
    """Sentinels written by any process but ``allowed_pid`` (the one the user started)."""
    found = sorted(p.name for p in sentinels.iterdir())
    if allowed_pid is None:
        return found
    return [name for name in found if not name.endswith(f"-{allowed_pid}")]

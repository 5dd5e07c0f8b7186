"""Where scip-python comes from (backends/extract/scip/install.py).

The real one-time npm install is exercised by tests/e2e/test_wheel.py (a wheel in a fresh
virtualenv); here the lookup order, the refusals, and a stand-in ``npm`` script on PATH
that records what it was asked to install.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from backends.extract import scip
from backends.extract.scip import install

ROOT = Path(__file__).resolve().parents[2]


def _executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No indexer anywhere: no clone bin, an empty cache, a PATH of one empty folder."""
    monkeypatch.setattr(install, "CLONE_BIN", tmp_path / "clone" / "scip-python")
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(install.BIN_ENV, raising=False)
    monkeypatch.delenv(install.AUTO_INSTALL_ENV, raising=False)
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path


def test_the_clone_pins_the_version_the_installer_installs() -> None:
    package = json.loads((ROOT / "tools" / "scip" / "package.json").read_text())
    assert package["dependencies"][install.PACKAGE] == install.PINNED
    lock = json.loads((ROOT / "tools" / "scip" / "package-lock.json").read_text())
    assert lock["packages"][f"node_modules/{install.PACKAGE}"]["version"] == install.PINNED
    assert install.PINNED in scip.VERSION


def test_nothing_installed_is_none(isolated: Path) -> None:
    assert install.find_binary() is None


def test_the_lookup_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = _executable(isolated / "bin" / "scip-python")
    assert install.find_binary() == on_path
    cached = _executable(install.user_dir() / "node_modules" / ".bin" / "scip-python")
    assert install.find_binary() == cached
    clone = _executable(isolated / "clone" / "scip-python")
    assert install.find_binary() == clone
    monkeypatch.setenv(install.BIN_ENV, str(isolated / "chosen"))
    assert install.find_binary() == isolated / "chosen"  # the user's choice, even if absent
    assert install.find_binary(isolated / "explicit") == isolated / "explicit"


def test_auto_install_can_be_forbidden(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(install.AUTO_INSTALL_ENV, "0")
    result = scip.extract_repo(isolated, {"a.py": "x = 1\n"}, isolated / "work")
    assert result.rows == []
    [(_, warning)] = result.warnings
    assert warning.code == "SCIP_UNAVAILABLE" and install.AUTO_INSTALL_ENV in warning.message


def test_without_npm_the_run_warns(isolated: Path) -> None:
    result = scip.extract_repo(isolated, {"a.py": "x = 1\n"}, isolated / "work")
    [(_, warning)] = result.warnings
    assert warning.code == "SCIP_UNAVAILABLE" and "npm is not on PATH" in warning.message


_FAKE_NPM = """#!/bin/sh
# Records its arguments; "installs" a launcher where npm would put it.
echo "$@" >> "{log}"
prefix=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--prefix" ]; then prefix="$2"; fi
  shift
done
{action}
"""


def test_first_use_installs_the_pinned_version_once(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = isolated / "npm.log"
    make_bin = (
        '/bin/mkdir -p "$prefix/node_modules/.bin" && '
        'printf "#!/bin/sh\\n" > "$prefix/node_modules/.bin/scip-python" && '
        '/bin/chmod +x "$prefix/node_modules/.bin/scip-python"'
    )
    _executable(isolated / "bin" / "npm", _FAKE_NPM.format(log=log, action=make_bin))
    first = scip.locate_binary()
    assert first == install.user_dir() / "node_modules" / ".bin" / "scip-python"
    assert "installing @sourcegraph/scip-python@" in capsys.readouterr().err
    assert scip.locate_binary() == first  # found in the cache: no second install
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and f"{install.PACKAGE}@{install.PINNED}" in calls[0]


def test_a_failed_install_is_a_warning_naming_npm(isolated: Path) -> None:
    fail = 'echo "npm ERR! network unreachable" >&2; exit 1'
    _executable(isolated / "bin" / "npm", _FAKE_NPM.format(log=isolated / "log", action=fail))
    result = scip.extract_repo(isolated, {"a.py": "x = 1\n"}, isolated / "work")
    [(_, warning)] = result.warnings
    assert warning.code == "SCIP_UNAVAILABLE"
    assert "failed (exit 1)" in warning.message and "network unreachable" in warning.message
    assert not (install.user_dir() / "node_modules" / ".bin" / "scip-python").exists()

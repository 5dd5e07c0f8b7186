"""Headless Chromium for the report tests: skipped on a developer's machine without it, a
failure in CI (``CI`` set), where .ci/run and the workflows install it: a rendering test must
never pass by skipping where it is meant to run."""

from __future__ import annotations

import os
import shutil

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str | None:
    """The first headless-capable Chromium on PATH, or None."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The browser; skips without one, except in CI where its absence fails the test."""
    found = chromium()
    if found is None:
        message = f"no Chromium on PATH (looked for {', '.join(NAMES)})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must install it (.ci/run, .github/workflows/tests.yml)")
        pytest.skip(message)
    return found

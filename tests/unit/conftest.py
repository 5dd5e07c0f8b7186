"""Configuration of the unit tests."""

from __future__ import annotations

import pytest

# The shared helpers assert: pytest explains their failures as it does those of test modules.
pytest.register_assert_rewrite("tests.unit.syntax_helpers")

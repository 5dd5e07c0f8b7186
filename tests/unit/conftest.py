"""Configuration of the unit tests."""

from __future__ import annotations

import pytest

# The shared helpers assert: pytest explains their failures as it does those of test modules.
pytest.register_assert_rewrite("tests.unit.syntax_helpers")

# Stage-0 evidence of golden callgraph for the engine facade tests (extracted once per module
# that asks for it).
from tests.unit.engine_evidence import evidence  # noqa: E402, F401

"""The codeanatomy configuration (DESIGN §9): model, loading, legacy migration, CLI.

``load_config()`` finds ``codeanatomy.toml`` (or ``[tool.codeanatomy]`` in pyproject.toml),
validates it and applies the environment; it returns a ``LoadedConfig`` or raises
``ConfigError``.
"""

from __future__ import annotations

from harness.config.discover import find_config
from harness.config.load import LoadedConfig, load_config, load_text
from harness.config.model import (
    CONFIG_CODES,
    CodeanatomyConfig,
    ConfigError,
    ConfigProblem,
    ConfigWarning,
    EngineConfig,
    ExtractConfig,
    ParityConfig,
    ParityThresholds,
    ValueSource,
)

__all__ = [
    "CONFIG_CODES",
    "CodeanatomyConfig",
    "ConfigError",
    "ConfigProblem",
    "ConfigWarning",
    "EngineConfig",
    "ExtractConfig",
    "LoadedConfig",
    "ParityConfig",
    "ParityThresholds",
    "ValueSource",
    "find_config",
    "load_config",
    "load_text",
]

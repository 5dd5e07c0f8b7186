"""The extraction options of a command: its own flags over the ``[extract]`` configuration.

One function maps ``[extract]`` to :class:`ExtractOptions` for every command that extracts
(``extract``, ``build``, ``shadow``/``golden shadow``, the gates), so a key that ``config
validate`` accepts is a key that applies (issue 18, part 8). A flag given on the command line
wins over the file; ``0`` workers and an absent flag mean "as configured".

``[extract].extractors`` concerns ``extract`` only: a build needs every evidence source, so
the builds always extract all nine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backends.contract.schemas import EXTRACTORS
from backends.extract.cache import default_cache_dir
from backends.extract.runner import ExtractOptions
from harness.config.load import LoadedConfig


def configured_cache(config: LoadedConfig) -> Path | None:
    """``[extract].cache``: true -> the per-user cache, false -> none, a string -> that folder
    (relative to the configuration file)."""
    cache = config.config.extract.cache
    if cache is False:
        return None
    return default_cache_dir() if cache is True else config.resolve(cache)


def extract_options(
    config: LoadedConfig,
    *,
    workers: int = 0,
    cache_dir: Path | None = None,
    no_cache: bool = False,
    extractors: tuple[str, ...] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    file_order_seed: int | None = None,
    scip_shards: int = 0,
) -> ExtractOptions:
    """Options for one extraction; flags (non-default arguments) win over the file."""
    section = config.config.extract
    chosen = extractors or EXTRACTORS
    if "repo_scan" not in chosen:
        chosen = ("repo_scan", *chosen)
    return ExtractOptions(
        workers=workers or section.workers,
        cache_dir=None if no_cache else (cache_dir or configured_cache(config)),
        extractors=chosen,
        file_timeout_s=section.file_timeout_s,
        max_file_bytes=section.max_file_bytes,
        scip_shards=scip_shards or section.scip_shards,
        progress=progress,
        file_order_seed=file_order_seed,
    )

"""The configuration file model (DESIGN §9): one frozen msgspec Struct per section.

``codeanatomy.toml`` (or ``[tool.codeanatomy]`` in pyproject.toml) has three known sections,
``[engine]``, ``[parity]`` and ``[extract]``. Unknown keys inside a known section are errors
(a typo must not silently fall back to a default); unknown sections are kept and reported as
warnings, so other tools may share the file. Relative paths are relative to the folder that
holds the configuration file; the loader resolves them.

The codes below are the stable identifiers of configuration problems and warnings; callers
match on them, never on message text.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec

from harness.vocabulary import BackendName, Mode

ValueKind = Literal["default", "file", "env"]
"""Where an effective value came from."""

NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]

DEFAULT_CANDIDATE_TIMEOUT_S: Final = 1800.0
"""How long a shadow candidate may run before it is killed."""
MAX_CANDIDATE_TIMEOUT_S: Final = 7 * 24 * 3600.0
"""A week: a longer limit is a mistake (``inf``, ``1e308``) that would overflow the timers."""
CandidateTimeout = Annotated[float, msgspec.Meta(gt=0, le=MAX_CANDIDATE_TIMEOUT_S)]
"""Seconds, positive and finite (``nan`` fails ``gt``, ``inf`` fails ``le``)."""

KNOWN_SECTIONS: Final = ("engine", "parity", "extract", "gates", "maintenance", "storage")
LEGACY_SECTION: Final = "hamilton"
CONFIG_FILENAME: Final = "codeanatomy.toml"
PYPROJECT_FILENAME: Final = "pyproject.toml"
DEFAULT_STATE_DIR: Final = ".codeanatomy"
ENV_BACKEND: Final = "CODEANATOMY_BACKEND"

# Error codes (ConfigError.code / ConfigProblem.code).
CONFIG_PARSE_ERROR: Final = "CONFIG_PARSE_ERROR"
CONFIG_INVALID: Final = "CONFIG_INVALID"
CONFIG_NOT_FOUND: Final = "CONFIG_NOT_FOUND"
CONFIG_ENV_INVALID: Final = "CONFIG_ENV_INVALID"
# Warning codes (ConfigWarning.code).
CONFIG_HAMILTON_DEPRECATED: Final = "CONFIG_HAMILTON_DEPRECATED"
CONFIG_HAMILTON_UNMAPPED: Final = "CONFIG_HAMILTON_UNMAPPED"
CONFIG_UNKNOWN_SECTION: Final = "CONFIG_UNKNOWN_SECTION"
CONFIG_PYPROJECT_SHADOWED: Final = "CONFIG_PYPROJECT_SHADOWED"
CONFIG_POLICY_MISSING: Final = "CONFIG_POLICY_MISSING"

CONFIG_CODES: Final[dict[str, str]] = {
    CONFIG_PARSE_ERROR: "the file is not valid TOML",
    CONFIG_INVALID: "a key is unknown, has a value of the wrong type, or breaks a rule",
    CONFIG_NOT_FOUND: "an explicitly named configuration file does not exist",
    CONFIG_ENV_INVALID: "an environment override has a value outside its allowed set",
    CONFIG_HAMILTON_DEPRECATED: "a legacy [hamilton] section was mapped to engine/extract keys",
    CONFIG_HAMILTON_UNMAPPED: "a [hamilton] key has no equivalent or an invalid value; ignored",
    CONFIG_UNKNOWN_SECTION: "a section codeanatomy does not know; kept and ignored",
    CONFIG_PYPROJECT_SHADOWED: "codeanatomy.toml and [tool.codeanatomy] both exist; the file wins",
    CONFIG_POLICY_MISSING: "the [parity].policy file does not exist",
}


class EngineConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[engine]``: which backend serves builds, shadow mode, and the kill switch.

    After loading, ``backend == "shadow"`` exactly when ``shadow`` is true (the loader
    normalizes ``shadow = true`` with a single backend into a shadow run whose primary is that
    backend), and ``primary != candidate``.
    """

    backend: Mode = "legacy"
    shadow: bool = False
    primary: BackendName = "legacy"
    candidate: BackendName = "rust"
    kill_switch: bool | Literal["legacy"] = False
    state_dir: str = DEFAULT_STATE_DIR
    candidate_timeout_s: CandidateTimeout = DEFAULT_CANDIDATE_TIMEOUT_S
    """Shadow mode: the candidate is killed after this many seconds (``--candidate-timeout``)."""

    @property
    def kill_switch_engaged(self) -> bool:
        """Whether this configuration layer engages the kill switch (``true`` or ``"legacy"``)."""
        return self.kill_switch is True or self.kill_switch == "legacy"


class ParityThresholds(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[parity.thresholds]``: the most findings of each severity a parity gate tolerates.

    ``None`` means unlimited (the default for sev3: warnings, metrics and timings inform).
    """

    max_sev1: NonNegativeInt = 0
    max_sev2: NonNegativeInt = 0
    max_sev3: NonNegativeInt | None = None


class ParityConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[parity]``: the parity policy file (tolerances, allow-list) and gate thresholds."""

    policy: str | None = None
    thresholds: ParityThresholds = msgspec.field(default_factory=ParityThresholds)
    history: str = "reports/parity_history"
    """The parity history Delta table every shadow suite appends to (the cutover gate reads it)."""
    cutover_runs: PositiveInt = 5
    """Consecutive clean parity runs the cutover gate requires."""


class GatesConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[gates]``: where verdicts go, how old evidence may be, and the performance budgets."""

    out: str = "reports/gates"
    max_evidence_age_h: PositiveFloat = 168.0
    bench_json: str = "reports/bench.json"
    """The pytest-benchmark report; the benchmarks' bench_*.json lie beside it (perf gate)."""
    min_semantic_speedup: PositiveFloat = 10.0
    max_warm_extract_ratio: PositiveFloat = 0.10


class MaintenanceConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[maintenance]``: the Delta maintenance policy of ``codeanatomy maintain`` (issue 14.5).

    A table is compacted when at least ``min_files_to_compact`` of its files are smaller than
    ``target_file_size``; vacuum deletes the data files removed more than
    ``vacuum_retention_hours`` ago (Delta's default is 168) except those a pinned version still
    reads; a checkpoint is written once ``checkpoint_interval`` commits follow the last one.
    The parity history is maintained after an append once it holds more than
    ``history_max_files`` data files.
    """

    target_file_size: Annotated[int, msgspec.Meta(gt=0, le=1 << 34)] = 100 * 1024 * 1024
    """Bytes: compaction writes files of about this size (delta-rs's default, 100 MiB)."""
    min_files_to_compact: Annotated[int, msgspec.Meta(ge=2)] = 4
    vacuum_retention_hours: Annotated[int, msgspec.Meta(ge=0, le=24 * 3650)] = 168
    checkpoint_interval: PositiveInt = 10
    history_max_files: PositiveInt = 32


class ExtractConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[extract]``: Stage-0 extraction (DESIGN §4).

    ``extractors``: ``None`` runs all nine (``extract`` only: a build extracts all nine).
    ``cache``: ``true`` uses the default per-user cache folder, ``false`` disables caching, a
    string names the folder. ``workers``: 0 means one process per core. ``file_timeout_s``: per
    file and extractor. ``max_file_bytes``: larger files are not read (SCAN_FILE_TOO_LARGE).
    ``scip_shards``: scip-python indexers run side by side, each on a shard of the files with the
    whole repo visible (CONTRACT §5.7); 0 means one per two cores.
    Every command that extracts applies them (harness/run/extract_options.py).
    """

    extractors: tuple[str, ...] | None = None
    cache: bool | str = True
    workers: NonNegativeInt = 0
    # Finite and bounded: nan, inf and absurd limits are refused with the key named.
    file_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 60.0
    max_file_bytes: Annotated[int, msgspec.Meta(gt=0, le=1 << 31)] = 5 * 1024 * 1024
    scip_shards: Annotated[int, msgspec.Meta(ge=0, le=256)] = 0


class StorageConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[storage]``: how runs, reports and the parity history reach an object store (issue 16).

    ``storage_options`` are delta-rs's storage options (``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, ``AWS_ALLOW_HTTP``,
    ``conditional_put``...), given to every reader and writer of an ``s3://`` location on top
    of the standard ``AWS_*`` environment variables. A value may name an environment variable as
    ``${NAME}``, so that no secret sits in a committed file; ``config show`` hides credentials.
    """

    storage_options: dict[str, str] = msgspec.field(default_factory=dict)


class CodeanatomyConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The whole effective configuration (defaults, then the file, then the environment)."""

    engine: EngineConfig = msgspec.field(default_factory=EngineConfig)
    parity: ParityConfig = msgspec.field(default_factory=ParityConfig)
    extract: ExtractConfig = msgspec.field(default_factory=ExtractConfig)
    gates: GatesConfig = msgspec.field(default_factory=GatesConfig)
    maintenance: MaintenanceConfig = msgspec.field(default_factory=MaintenanceConfig)
    storage: StorageConfig = msgspec.field(default_factory=StorageConfig)


class ConfigProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One reason a configuration is rejected, located as precisely as the file allows."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A structured warning attached to a successfully loaded configuration."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.code}: {self.message}"


class ValueSource(msgspec.Struct, frozen=True, kw_only=True):
    """Where one effective value came from: ``default``, ``file`` (which key) or ``env``.

    ``key`` is the key as written in the file (``[hamilton].max_tasks`` for a mapped legacy
    key) or the environment variable's name; ``line`` is filled in on request (``config show``).
    """

    kind: ValueKind
    key: str | None = None
    line: int | None = None


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason found (never empty)."""

    def __init__(self, problems: tuple[ConfigProblem, ...]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @property
    def code(self) -> str:
        """The code of the first problem (all problems of one load usually share it)."""
        return self.problems[0].code

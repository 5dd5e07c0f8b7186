"""The parity policy file (TOML): per-table tolerances and an allow-list of known differences.

```toml
version = 1
[defaults]
row_count_tolerance = 0.0      # relative; above it a row-count difference is sev1
sample_rows = 20
[tables.cpg_edges.columns.confidence]
abs_tol = 1e-9                 # also rel_tol; or ignore = true
[tables.cpg_nodes.columns.path]
normalize = ["posix_path"]     # lower, strip, collapse_whitespace, posix_path, round:N
[[allow]]                      # a known difference: reason, owner and expiry are required
table = "diagnostics"
stage = "outputs"              # optional; so is repo
reason = "message wording differs"
owner = "platform-team"
expires = 2027-03-31           # an expired entry fails the gate
```
"""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec

from harness.compare.diff import ColumnRule, DiffOptions, check_normalizer
from harness.compare.tables import TableRules
from harness.config.load import LoadedConfig
from harness.errors import UsageError

# A tolerance is a finite number >= 0 (nan compares false with everything, so a nan tolerance
# would silently accept or refuse every difference); a relative row-count tolerance is at
# most 1 (100 %); sample_rows is a count.
Tolerance = Annotated[float, msgspec.Meta(ge=0, le=1e300)]
RowCountTolerance = Annotated[float, msgspec.Meta(ge=0, le=1)]
SampleRows = Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class ColumnPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    ignore: bool = False
    abs_tol: Tolerance = 0.0
    rel_tol: Tolerance = 0.0
    normalize: list[str] = []


class TablePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    row_count_tolerance: RowCountTolerance | None = None
    columns: dict[str, ColumnPolicy] = {}


class Defaults(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    row_count_tolerance: RowCountTolerance = 0.0
    sample_rows: SampleRows = 20


class AllowEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A known difference, accepted until ``expires``."""

    table: str
    reason: str
    owner: str
    expires: dt.date
    stage: str | None = None
    repo: str | None = None
    code: str | None = None
    """A finding code of the parity Result (e.g. ``COVERAGE_SOURCE_FAILED``); any when None."""

    def matches(self, repo: str, stage: str, table: str, code: str | None = None) -> bool:
        return (
            self.table == table
            and (self.stage is None or self.stage == stage)
            and (self.repo is None or self.repo == repo)
            and (self.code is None or code is None or self.code == code)
        )

    def describe(self) -> str:
        """The entry as reports show it (and as findings name the entry that allowed them)."""
        where = "/".join(x for x in (self.repo, self.stage, self.table, self.code) if x)
        return f"{where}: {self.reason} ({self.owner}, until {self.expires})"

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


class ParityPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    version: int = 1
    defaults: Defaults = msgspec.field(default_factory=Defaults)
    tables: dict[str, TablePolicy] = {}
    allow: tuple[AllowEntry, ...] = ()

    def rules(self) -> dict[str, TableRules]:
        """Per-table comparison rules (tables without a section use the defaults)."""
        from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
        from backends.contract.views import VIEW_CATALOG

        names = set(EVIDENCE_TABLES) | set(OUTPUT_TABLES) | set(VIEW_CATALOG) | set(self.tables)
        out = {}
        for name in sorted(names):
            table = self.tables.get(name, TablePolicy())
            columns = {
                c: ColumnRule(
                    ignore=p.ignore,
                    abs_tol=p.abs_tol,
                    rel_tol=p.rel_tol,
                    normalize=tuple(p.normalize),
                )
                for c, p in table.columns.items()
            }
            tolerance = table.row_count_tolerance
            out[name] = TableRules(
                diff=DiffOptions(columns=columns, sample_rows=self.defaults.sample_rows),
                row_count_tolerance=(
                    self.defaults.row_count_tolerance if tolerance is None else tolerance
                ),
            )
        return out


POLICY_INVALID = "POLICY_INVALID"


class PolicyError(UsageError):
    """The policy file cannot be read or is invalid; the message names the file and field.

    A usage error (exit 2): the file is the user's input, like a path on the command line.
    """

    def __init__(self, message: str) -> None:
        super().__init__(POLICY_INVALID, message)


def known_columns() -> dict[str, frozenset[str]]:
    """Every table a policy may name (the contract's evidence and output tables and the
    catalogue views) with the columns of its schema."""
    from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
    from backends.contract.views import VIEW_CATALOG

    known: dict[str, frozenset[str]] = {}
    schemas = [(n, v.schema) for n, v in VIEW_CATALOG.items()]
    schemas += [(n, c.schema) for n, c in (EVIDENCE_TABLES | OUTPUT_TABLES).items()]
    for name, schema in schemas:
        # A name shared by a view and a table (if any) accepts the columns of both.
        known[name] = known.get(name, frozenset()) | frozenset(schema.names)
    return known


def _did_you_mean(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=3)
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return f"; known: {', '.join(sorted(choices))}"


def _check_names(path: Path, policy: ParityPolicy) -> None:
    """An unknown table, column or stage would make a rule silently apply to nothing."""
    from harness.compare.runs import STAGES

    known = known_columns()
    tables = sorted(known)
    for table, section in sorted(policy.tables.items()):
        if table not in known:
            raise PolicyError(
                f"{path}: tables.{table}: unknown table {table!r}{_did_you_mean(table, tables)}"
            )
        columns = sorted(known[table])
        for column in sorted(section.columns):
            if column not in known[table]:
                raise PolicyError(
                    f"{path}: tables.{table}.columns.{column}: table {table!r} has no column "
                    f"{column!r}{_did_you_mean(column, columns)}"
                )
    for i, entry in enumerate(policy.allow):
        if entry.table not in known:
            raise PolicyError(
                f"{path}: allow[{i}].table: unknown table {entry.table!r}"
                f"{_did_you_mean(entry.table, tables)}"
            )
        if entry.stage is not None and entry.stage not in STAGES:
            raise PolicyError(
                f"{path}: allow[{i}].stage: unknown stage {entry.stage!r}"
                f"{_did_you_mean(entry.stage, list(STAGES))}"
            )


def load_policy(path: Path | None) -> ParityPolicy:
    """Read a policy file; ``None`` gives the strict default policy."""
    if path is None:
        return ParityPolicy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        policy = msgspec.convert(data, type=ParityPolicy)
    except (OSError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: not UTF-8 text (TOML is UTF-8): {exc.reason}") from exc
    except RecursionError as exc:  # tomllib recurses once per nesting level
        raise PolicyError(f"{path}: nested too deeply to read") from exc
    _check_names(path, policy)
    for table, section in sorted(policy.tables.items()):
        for column, rule in sorted(section.columns.items()):
            for name in rule.normalize:
                problem = check_normalizer(name)
                if problem:
                    raise PolicyError(
                        f"{path}: tables.{table}.columns.{column}.normalize: {problem}"
                    )
    return policy


def configured_policy(config: LoadedConfig) -> ParityPolicy:
    """The policy file named by ``[parity].policy`` (relative to the config), or the default."""
    name = config.config.parity.policy
    return load_policy(config.resolve(name) if name else None)


def configured_thresholds(config: LoadedConfig) -> dict[str, int | None]:
    """``[parity.thresholds]`` as the report's ``max_sev*`` mapping."""
    t = config.config.parity.thresholds
    return {"max_sev1": t.max_sev1, "max_sev2": t.max_sev2, "max_sev3": t.max_sev3}

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
import tomllib
from pathlib import Path

import msgspec

from harness.compare.diff import ColumnRule, DiffOptions, check_normalizer
from harness.compare.tables import TableRules
from harness.config.load import LoadedConfig


class ColumnPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    ignore: bool = False
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    normalize: list[str] = []


class TablePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    row_count_tolerance: float | None = None
    columns: dict[str, ColumnPolicy] = {}


class Defaults(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    row_count_tolerance: float = 0.0
    sample_rows: int = 20


class AllowEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A known difference, accepted until ``expires``."""

    table: str
    reason: str
    owner: str
    expires: dt.date
    stage: str | None = None
    repo: str | None = None

    def matches(self, repo: str, stage: str, table: str) -> bool:
        return (
            self.table == table
            and (self.stage is None or self.stage == stage)
            and (self.repo is None or self.repo == repo)
        )

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


class PolicyError(ValueError):
    """The policy file cannot be read or is invalid; the message names the file and field."""


def load_policy(path: Path | None) -> ParityPolicy:
    """Read a policy file; ``None`` gives the strict default policy."""
    if path is None:
        return ParityPolicy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        policy = msgspec.convert(data, type=ParityPolicy)
    except (OSError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise PolicyError(f"{path}: {exc}") from exc
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

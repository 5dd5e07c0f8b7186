"""Find, parse, validate and merge the configuration (DESIGN §9): defaults < file < environment.

``load_config`` returns a ``LoadedConfig`` (the effective values, where each came from, and
structured warnings) or raises ``ConfigError`` listing *every* problem found, each located as
``file:line: [section].key: message``. Each key is validated on its own so one typo does not
hide the next. A legacy ``[hamilton]`` section is mapped (see ``hamilton.MAPPING``) with a
``CONFIG_HAMILTON_DEPRECATED`` warning; it never fails a load.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec
import tomlkit
from tomlkit.exceptions import ParseError

from harness.config import model as m
from harness.config.discover import find_config, has_tool_table
from harness.config.hamilton import map_hamilton
from harness.config.locate import locate_lines
from harness.config.typedesc import describe, show_value
from harness.vocabulary import MODES, Mode, other_backend

_SECTION_TYPES: dict[str, type[msgspec.Struct]] = {
    "engine": m.EngineConfig,
    "parity": m.ParityConfig,
    "extract": m.ExtractConfig,
    "gates": m.GatesConfig,
    "maintenance": m.MaintenanceConfig,
    "storage": m.StorageConfig,
}
_Path = tuple[str, ...]


class LoadedConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The effective configuration, where it came from, and the warnings of the load.

    ``root`` is the folder of the configuration file (the project root when there is none);
    relative paths in the file are relative to it. ``sources`` maps each dotted key
    (``engine.backend``) to its ``ValueSource``.
    """

    config: m.CodeanatomyConfig
    root: Path
    file: Path | None = None
    pyproject: bool = False
    sources: dict[str, m.ValueSource] = msgspec.field(default_factory=dict)
    warnings: tuple[m.ConfigWarning, ...] = ()

    def resolve(self, path: str) -> Path:
        """A path from the file, made absolute against ``root`` (``~`` expanded)."""
        return (self.root / Path(path).expanduser()).absolute()

    def location(self, value: str) -> Path | str:
        """A location from the file: an object-store URI as written, else :meth:`resolve`."""
        from harness.storage import is_uri

        return value if is_uri(value) else self.resolve(value)

    @property
    def storage_options(self) -> dict[str, str]:
        """The effective storage options (``[storage]`` over the ``AWS_*`` environment)."""
        from harness.storage import effective_options

        return effective_options(dict(self.config.storage.storage_options))

    @property
    def state_dir(self) -> Path:
        """Where the kill-switch state, lock and audit log live."""
        return self.resolve(self.config.engine.state_dir)


def load_config(
    path: Path | None = None,
    *,
    start: Path | None = None,
    env: Mapping[str, str] | None = None,
    locate: bool = False,
) -> LoadedConfig:
    """Load the effective configuration: ``path`` if given, else the one found from ``start``.

    ``env`` defaults to ``os.environ``; ``locate`` fills in ``ValueSource.line`` for values
    from the file (costs one parse per key; ``config show`` uses it).
    """
    environ = os.environ if env is None else env
    if path is None:
        path, root = find_config(start or Path.cwd())
        if path is None:
            return load_text("", file=None, root=root, env=environ)
    elif not path.is_file():
        problem = m.ConfigProblem(
            code=m.CONFIG_NOT_FOUND, message="no such file", file=_display(path)
        )
        raise m.ConfigError((problem,))
    pyproject = path.name == m.PYPROJECT_FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = m.ConfigProblem(
            code=m.CONFIG_PARSE_ERROR, message=f"cannot read: {exc}", file=_display(path)
        )
        raise m.ConfigError((problem,)) from exc
    loaded = load_text(
        text, file=path, root=path.parent, pyproject=pyproject, env=environ, locate=locate
    )
    sibling = path.parent / m.PYPROJECT_FILENAME
    if not pyproject and sibling.is_file() and has_tool_table(sibling):
        shadowed = m.ConfigWarning(
            code=m.CONFIG_PYPROJECT_SHADOWED,
            message=f"[tool.codeanatomy] in {_display(sibling)} is ignored",
            file=_display(path),
        )
        loaded = msgspec.structs.replace(loaded, warnings=(shadowed, *loaded.warnings))
    return loaded


def load_text(
    text: str,
    *,
    file: Path | None,
    root: Path,
    pyproject: bool = False,
    env: Mapping[str, str] | None = None,
    locate: bool = False,
) -> LoadedConfig:
    """Validate configuration text (the body of ``load_config``; tests call it directly)."""
    run = _Load(text, file, pyproject)
    config = run.evaluate(os.environ if env is None else env)
    if config.parity.policy is not None:
        policy = (root / Path(config.parity.policy).expanduser()).absolute()
        if not policy.exists():
            run.warning(m.CONFIG_POLICY_MISSING, f"{policy} does not exist", ("parity", "policy"))
    sources = run.sources
    if locate and file is not None:
        lines = locate_lines(text, [run.prefix + p for p in run.source_paths.values()])
        sources = {
            key: msgspec.structs.replace(src, line=lines.get(run.prefix + run.source_paths[key]))
            if key in run.source_paths
            else src
            for key, src in sources.items()
        }
    return LoadedConfig(
        config=config,
        root=root.absolute(),
        file=file,
        pyproject=pyproject,
        sources=sources,
        warnings=tuple(run.located_warnings()),
    )


class _Load:
    """One load: accumulates problems, warnings and sources, then raises or builds."""

    def __init__(self, text: str, file: Path | None, pyproject: bool) -> None:
        self.text = text
        self.file = _display(file) if file is not None else None
        self.prefix: _Path = ("tool", "codeanatomy") if pyproject else ()
        self.problems: list[tuple[str, _Path | None, str, str]] = []
        self.warnings: list[tuple[str, str, _Path | None]] = []
        self.sources: dict[str, m.ValueSource] = {}
        self.source_paths: dict[str, _Path] = {}

    def key_name(self, path: _Path) -> str:
        full = self.prefix + path
        if len(full) == 1:
            return f"[{full[0]}]"
        return f"[{'.'.join(full[:-1])}].{full[-1]}"

    def problem(self, path: _Path, message: str) -> None:
        self.problems.append((m.CONFIG_INVALID, path, self.key_name(path), message))

    def warning(self, code: str, message: str, path: _Path | None = None) -> None:
        self.warnings.append((code, message, path))

    def located_warnings(self) -> list[m.ConfigWarning]:
        paths = [self.prefix + p for _, _, p in self.warnings if p]
        lines = locate_lines(self.text, paths) if self.file is not None else {}
        return [
            m.ConfigWarning(
                code=code,
                message=message,
                file=self.file,
                line=lines.get(self.prefix + path) if path else None,
                key=self.key_name(path) if path else None,
            )
            for code, message, path in self.warnings
        ]

    def fail(self) -> m.ConfigError:
        paths = [self.prefix + p for _, p, _, _ in self.problems if p]
        lines = locate_lines(self.text, paths) if self.file is not None else {}
        return m.ConfigError(
            tuple(
                m.ConfigProblem(
                    code=code,
                    message=message,
                    file=self.file if code != m.CONFIG_ENV_INVALID else "environment",
                    line=lines.get(self.prefix + path) if path else None,
                    key=key or None,
                )
                for code, path, key, message in self.problems
            )
        )

    def evaluate(self, env: Mapping[str, str]) -> m.CodeanatomyConfig:
        data = self.parse()
        clean: dict[str, dict[str, Any]] = {}
        for name, value in data.items():
            if name in _SECTION_TYPES:
                if isinstance(value, dict):
                    clean[name] = self.check_table(value, _SECTION_TYPES[name], (name,))
                else:
                    self.problem((name,), f"expected a table, got {show_value(value)}")
            elif name == m.LEGACY_SECTION:
                continue
            elif isinstance(value, dict):
                hint = _did_you_mean(name, (*_SECTION_TYPES, m.LEGACY_SECTION))
                message = f"unknown section [{name}] is ignored{hint}"
                self.warning(m.CONFIG_UNKNOWN_SECTION, message, (name,))
            else:
                message = (
                    "unknown top-level key; settings belong in [engine], [parity], [extract], "
                    "[gates], [maintenance] or [storage]"
                )
                key = f"[{'.'.join(self.prefix)}].{name}" if self.prefix else name
                self.problems.append((m.CONFIG_INVALID, (name,), key, message))
        legacy = data.get(m.LEGACY_SECTION)
        if legacy is not None:
            self.apply_legacy(legacy, clean)
        self.apply_env(env, clean)
        if self.problems:
            raise self.fail()
        config = msgspec.convert(clean, m.CodeanatomyConfig)
        config = self.normalize(config)
        if self.problems:
            raise self.fail()
        self.fill_defaults(config)
        return config

    def parse(self) -> dict[str, Any]:
        try:
            doc = tomlkit.parse(self.text)
        except RecursionError as exc:
            # tomlkit recurses per nesting level; a pathological file is a parse error.
            message = "invalid TOML: nested too deeply to parse"
            problem = m.ConfigProblem(code=m.CONFIG_PARSE_ERROR, message=message, file=self.file)
            raise m.ConfigError((problem,)) from exc
        except ParseError as exc:
            message = f"invalid TOML: {str(exc).rsplit(' at line ', 1)[0]}"
            problem = m.ConfigProblem(
                code=m.CONFIG_PARSE_ERROR, message=message, file=self.file, line=exc.line
            )
            raise m.ConfigError((problem,)) from exc
        data: Any = doc.unwrap()
        for part in self.prefix:
            data = data.get(part, {}) if isinstance(data, dict) else {}
        return data if isinstance(data, dict) else {}

    def check_table(
        self, raw: Mapping[str, Any], struct: type[msgspec.Struct], path: _Path
    ) -> dict[str, Any]:
        """Validate each key on its own; keep the valid ones; record their source."""
        fields = {f.name: f for f in msgspec.structs.fields(struct)}
        clean: dict[str, Any] = {}
        for key, value in raw.items():
            field = fields.get(key)
            if field is None:
                hint = _did_you_mean(key, fields) or f" (known keys: {', '.join(fields)})"
                self.problem((*path, key), f"unknown key{hint}")
                continue
            nested = field.type if isinstance(field.type, type) else None
            if nested is not None and issubclass(nested, msgspec.Struct):
                if isinstance(value, dict):
                    clean[key] = self.check_table(value, nested, (*path, key))
                else:
                    self.problem((*path, key), f"expected a table, got {show_value(value)}")
                continue
            try:
                msgspec.convert({key: value}, struct)
            except msgspec.ValidationError:
                self.problem(
                    (*path, key), f"expected {describe(field.type)}, got {show_value(value)}"
                )
                continue
            clean[key] = value
            self.set_source(
                (*path, key), m.ValueSource(kind="file", key=self.key_name((*path, key)))
            )
        return clean

    def set_source(
        self, path: _Path, source: m.ValueSource, file_path: _Path | None = None
    ) -> None:
        dotted = ".".join(path)
        self.sources[dotted] = source
        if source.kind == "file":
            self.source_paths[dotted] = file_path or path

    def copy_source(self, target: str, origin: str) -> None:
        self.sources[target] = self.sources[origin]
        if origin in self.source_paths:
            self.source_paths[target] = self.source_paths[origin]
        else:
            self.source_paths.pop(target, None)

    def apply_legacy(self, legacy: object, clean: dict[str, dict[str, Any]]) -> None:
        path: _Path = (m.LEGACY_SECTION,)
        if not isinstance(legacy, dict):
            message = f"[hamilton] is not a table ({show_value(legacy)}); ignored"
            self.warning(m.CONFIG_HAMILTON_UNMAPPED, message, path)
            return
        present = {name: set(clean.get(name, {})) for name in ("engine", "extract")}
        mapping = map_hamilton(legacy, present)
        moved = [f"[hamilton].{a.source_key} -> [{a.section}].{a.key}" for a in mapping.assignments]
        summary = "; ".join(moved) if moved else "no key maps to a current one"
        message = f"[hamilton] is deprecated ({summary}); run `codeanatomy config migrate`"
        self.warning(m.CONFIG_HAMILTON_DEPRECATED, message, path)
        for a in mapping.assignments:
            clean.setdefault(a.section, {})[a.key] = a.value
            source = m.ValueSource(kind="file", key=f"[hamilton].{a.source_key}")
            self.set_source((a.section, a.key), source, (m.LEGACY_SECTION, a.source_key))
        for d in mapping.dropped:
            message = f"[hamilton].{d.source_key} ignored: {d.reason}"
            self.warning(m.CONFIG_HAMILTON_UNMAPPED, message, (m.LEGACY_SECTION, d.source_key))

    def apply_env(self, env: Mapping[str, str], clean: dict[str, dict[str, Any]]) -> None:
        raw = env.get(m.ENV_BACKEND, "").strip()
        if not raw:
            return
        value = raw.lower()
        if value not in MODES:
            message = f"expected {describe(Mode)}, got {raw!r}"
            self.problems.append((m.CONFIG_ENV_INVALID, None, m.ENV_BACKEND, message))
            return
        # The variable chooses the whole mode: CODEANATOMY_BACKEND=legacy also turns a
        # file's `shadow = true` off, which is what an operator setting it means.
        engine = clean.setdefault("engine", {})
        engine["backend"] = value
        engine["shadow"] = value == "shadow"
        for key in ("backend", "shadow"):
            self.set_source(("engine", key), m.ValueSource(kind="env", key=m.ENV_BACKEND))

    def normalize(self, config: m.CodeanatomyConfig) -> m.CodeanatomyConfig:
        """Cross-key rules; make ``backend == "shadow"`` equivalent to ``shadow = true``."""
        engine = config.engine
        if engine.shadow and engine.backend != "shadow":
            primary_set = "engine.primary" in self.sources
            if primary_set and engine.primary != engine.backend:
                self.problem(
                    ("engine", "primary"),
                    f"shadow = true serves backend {engine.backend!r} as the primary, "
                    f"but primary is {engine.primary!r}",
                )
            primary = engine.backend
            candidate = engine.candidate
            if "engine.candidate" not in self.sources:
                candidate = other_backend(primary)
            if "engine.primary" not in self.sources and "engine.backend" in self.sources:
                self.copy_source("engine.primary", "engine.backend")
            engine = msgspec.structs.replace(
                engine,
                backend="shadow",
                primary=primary,
                candidate=candidate,
            )
            if "engine.shadow" in self.sources:
                self.copy_source("engine.backend", "engine.shadow")
        elif engine.backend == "shadow" and not engine.shadow:
            engine = msgspec.structs.replace(engine, shadow=True)
        if engine.primary == engine.candidate:
            self.problem(("engine", "candidate"), f"must differ from primary ({engine.primary!r})")
        self.check_extractors(config.extract.extractors)
        return msgspec.structs.replace(config, engine=engine)

    def check_extractors(self, extractors: tuple[str, ...] | None) -> None:
        if extractors is None:
            return
        from backends.contract.schemas import EXTRACTORS

        path = ("extract", "extractors")
        unknown = [name for name in extractors if name not in EXTRACTORS]
        if unknown:
            self.problem(path, f"unknown extractor(s) {unknown}; known: {', '.join(EXTRACTORS)}")
        if len(set(extractors)) != len(extractors):
            self.problem(path, "lists an extractor more than once")
        if not extractors:
            self.problem(path, "must name at least one extractor (omit the key to run all)")

    def fill_defaults(self, config: m.CodeanatomyConfig) -> None:
        for section in _SECTION_TYPES:
            for dotted in _leaf_keys(getattr(config, section), (section,)):
                self.sources.setdefault(dotted, m.ValueSource(kind="default"))
        self.sources = dict(sorted(self.sources.items()))


def _leaf_keys(struct: msgspec.Struct, path: _Path) -> list[str]:
    keys: list[str] = []
    for field in msgspec.structs.fields(struct):
        value = getattr(struct, field.name)
        if isinstance(value, msgspec.Struct):
            keys.extend(_leaf_keys(value, (*path, field.name)))
        else:
            keys.append(".".join((*path, field.name)))
    return keys


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _display(path: Path) -> str:
    """The path as a user would type it: relative to the working folder when inside it."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

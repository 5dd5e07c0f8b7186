"""A deterministic generator of large, realistic Python repositories for benchmarks.

``generate(dest, files=2000, seed=0)`` writes nested packages of modules (100-300 lines each)
with classes that inherit across modules, methods calling methods, functions calling each
other across modules through relative, absolute and aliased imports, and a little Unicode.
Everything is drawn from one seeded ``random.Random`` and emitted in a fixed order, so the same
seed gives byte-identical output on any machine and under any hash seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

TOP_PACKAGE = "synthapp"
_MAX_DEPTH = 4
_SUBPACKAGE_PROBABILITY = 0.07
_NOUNS = (
    "order", "item", "user", "account", "invoice", "report", "task", "event", "record",
    "batch", "cache", "queue", "node", "graph", "token", "session", "policy", "rule",
    "metric", "sample", "frame", "buffer", "channel", "ledger", "profile", "route",
    "schema", "signal", "vector", "window",
)  # fmt: skip
_VERBS = (
    "load", "save", "merge", "split", "score", "rank", "parse", "render", "check", "build",
    "apply", "fetch", "update", "resolve", "count", "scale", "filter", "sort", "encode",
    "decode",
)  # fmt: skip
_ROLES = ("Service", "Manager", "Builder", "Handler", "Store", "Engine", "Policy", "View")
_DOCS = (
    "Compute the next value.",
    "Combine the inputs into one number.",
    "Résumé of the naïve approach, kept for parity.",
    "東京 and 大阪 share this path.",
    "Marks the value as done ✅.",
    "Ünïcödé-safe; returns an int.",
)


@dataclass(frozen=True)
class SyntheticRepo:
    """What ``generate`` wrote."""

    root: Path
    seed: int
    files: int
    modules: int
    packages: int
    lines: int
    bytes: int


@dataclass
class _Class:
    name: str
    methods: list[str]


@dataclass
class _Module:
    package: tuple[str, ...]
    name: str
    functions: list[str] = field(default_factory=list)
    classes: list[_Class] = field(default_factory=list)

    @property
    def dotted(self) -> str:
        return ".".join((*self.package, self.name))


@dataclass
class _Scope:
    """Names a module body can call: plain callables, and classes with their methods."""

    functions: list[str] = field(default_factory=list)
    classes: list[tuple[str, _Class]] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)


def generate(dest: Path, *, files: int = 2000, seed: int = 0) -> SyntheticRepo:
    """Write a synthetic repository of ``files`` Python files under ``dest`` (new or empty)."""
    if files < 1:
        raise ValueError("files must be at least 1")
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    rng = random.Random(seed)
    packages, modules = _plan_layout(rng, files)
    outputs: dict[str, str] = {}
    for package in packages:
        rel = "/".join(package) + "/__init__.py"
        outputs[rel] = f'"""Package {".".join(package)}."""\n\n__all__: list[str] = []\n'
    for index, module in enumerate(modules):
        rel = "/".join(module.package) + f"/{module.name}.py"
        outputs[rel] = _render_module(rng, module, modules[:index])
    total_lines = 0
    total_bytes = 0
    for rel in sorted(outputs):
        data = outputs[rel].encode("utf-8")
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total_lines += data.count(b"\n")
        total_bytes += len(data)
    return SyntheticRepo(
        root=dest,
        seed=seed,
        files=len(outputs),
        modules=len(modules),
        packages=len(packages),
        lines=total_lines,
        bytes=total_bytes,
    )


def _plan_layout(rng: random.Random, files: int) -> tuple[list[tuple[str, ...]], list[_Module]]:
    packages: list[tuple[str, ...]] = [(TOP_PACKAGE,)]
    nestable: list[tuple[str, ...]] = [(TOP_PACKAGE,)]
    modules: list[_Module] = []
    count = 1
    while count < files:
        if count + 1 < files and rng.random() < _SUBPACKAGE_PROBABILITY:
            parent = rng.choice(nestable)
            package = (*parent, f"{rng.choice(_NOUNS)}s_{len(packages)}")
            packages.append(package)
            if len(package) < _MAX_DEPTH:
                nestable.append(package)
        else:
            # Favour recent packages so that packages fill up like real ones do.
            package = packages[max(0, len(packages) - 1 - int(rng.expovariate(0.3)))]
            modules.append(_Module(package, f"{rng.choice(_NOUNS)}_{len(modules)}"))
        count += 1
    return packages, modules


def _import_from(module: _Module, target: _Module) -> str:
    """The module part of a ``from ... import`` of ``target`` written inside ``module``."""
    here, there = module.package, target.package
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    level = len(here) - common + 1
    if level > 3:
        return target.dotted
    return "." * level + ".".join((*there[common:], target.name))


def _render_module(rng: random.Random, module: _Module, earlier: list[_Module]) -> str:
    out = [
        f'"""Module {module.dotted}: {rng.choice(_DOCS)}"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    out += ["import functools", "import math", ""]
    scope = _Scope(bound={"functools", "math"})
    if earlier:
        chosen = rng.sample(range(len(earlier)), min(len(earlier), rng.randint(1, 4)))
        for j in sorted(chosen):
            out += _render_import(rng, module, earlier[j], scope)
    target_lines = rng.randint(100, 300)
    serial = 0
    while len(out) < target_lines:
        out.append("")
        if rng.random() < 0.35:
            out += _render_class(rng, module, scope, serial)
        else:
            out += _render_function(rng, module, scope, serial)
        serial += 1
    return "\n".join(out) + "\n"


def _bind(scope: _Scope, name: str, suffix: str) -> str:
    alias = name if name not in scope.bound else f"{name}_{suffix}"
    scope.bound.add(alias)
    return alias


def _render_import(
    rng: random.Random, module: _Module, target: _Module, scope: _Scope
) -> list[str]:
    lines: list[str] = []
    style = rng.random()
    suffix = target.name.rsplit("_", 1)[-1]
    if style < 0.3 or not (target.functions or target.classes):
        alias = _bind(scope, f"{target.name}_mod", suffix)
        lines.append(f"import {target.dotted} as {alias}")
        scope.functions += [f"{alias}.{f}" for f in target.functions[:3]]
        scope.classes += [(f"{alias}.{c.name}", c) for c in target.classes[:2]]
        return lines
    source = _import_from(module, target)
    for fname in target.functions[: rng.randint(1, 2)]:
        alias = _bind(scope, fname, suffix)
        lines.append(f"from {source} import {fname}" + (f" as {alias}" if alias != fname else ""))
        scope.functions.append(alias)
    for cls in target.classes[:1]:
        alias = _bind(scope, cls.name, suffix)
        lines.append(
            f"from {source} import {cls.name}" + (f" as {alias}" if alias != cls.name else "")
        )
        scope.classes.append((alias, cls))
    return lines


def _call(rng: random.Random, scope: _Scope, arg: str) -> str:
    if scope.classes and rng.random() < 0.3:
        expr, cls = rng.choice(scope.classes)
        return f"{expr}({arg}).{rng.choice(cls.methods)}({arg})"
    if scope.functions:
        return f"{rng.choice(scope.functions)}({arg})"
    return f"math.isqrt(abs({arg}))"


def _fresh_name(rng: random.Random, scope: _Scope, serial: int) -> str:
    verb = rng.choice(_VERBS)
    noun = "données" if rng.random() < 0.02 else rng.choice(_NOUNS)
    return _bind(scope, f"{verb}_{noun}_{serial}", "x")


def _render_function(rng: random.Random, module: _Module, scope: _Scope, serial: int) -> list[str]:
    name = _fresh_name(rng, scope, serial)
    lines = ["", "@functools.lru_cache(maxsize=128)"] if rng.random() < 0.1 else [""]
    lines += [
        f"def {name}(value: int, scale: int = {rng.randint(1, 9)}) -> int:",
        f'    """{rng.choice(_DOCS)}"""',
        f"    total = value * scale + {rng.randint(0, 99)}",
    ]
    for step in range(rng.randint(1, 4)):
        lines += [
            f"    if total % {rng.randint(2, 7)} == {step % 2}:",
            f"        total += {_call(rng, scope, 'total % 97')}",
            "    else:",
            f"        total -= {rng.randint(1, 50)}",
        ]
    if rng.random() < 0.3:
        lines += [
            "    label = " + repr(f"{name} {rng.choice(['✓', 'é', '東', 'ok'])}"),
            "    total += len(label)",
        ]
    lines.append("    return total")
    module.functions.append(name)
    scope.functions.append(name)
    return lines


def _render_class(rng: random.Random, module: _Module, scope: _Scope, serial: int) -> list[str]:
    name = _bind(scope, f"{rng.choice(_NOUNS).capitalize()}{rng.choice(_ROLES)}{serial}", "x")
    base = rng.choice(scope.classes) if scope.classes and rng.random() < 0.6 else None
    header = f"class {name}({base[0]}):" if base else f"class {name}:"
    lines = [
        "",
        header,
        f'    """{rng.choice(_DOCS)}"""',
        "",
        "    def __init__(self, seed: int = 0) -> None:",
    ]
    if base:
        lines.append("        super().__init__(seed)")
    lines += ["        self.seed = seed", "        self.history: list[int] = []"]
    inherited = list(base[1].methods) if base else []
    methods: list[str] = []
    for k in range(rng.randint(2, 5)):
        if inherited and rng.random() < 0.4:
            method = inherited.pop(rng.randrange(len(inherited)))
            first = f"super().{method}(value)"
        else:
            method = f"{rng.choice(_VERBS)}_{k}"
            first = "value + self.seed"
        if method in methods:
            continue
        lines += [
            "",
            f"    def {method}(self, value: int) -> int:",
            f"        result = {first}",
            f"        result += {_call(rng, scope, 'result % 89')}",
        ]
        if methods:
            lines.append(f"        result += self.{rng.choice(methods)}(result % 13)")
        lines += ["        self.history.append(result)", "        return result"]
        methods.append(method)
    lines += [
        "",
        "    @classmethod",
        "    def create(cls, seed: int) -> " + name + ":",
        "        return cls(seed)",
    ]
    cls = _Class(name, list(dict.fromkeys(methods + (base[1].methods if base else []))))
    module.classes.append(cls)
    scope.classes.append((name, cls))
    return lines

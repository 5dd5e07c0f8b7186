"""The value-flow call-graph analysis of docs/design/callgraph-1.1.md, directly over ``ast``.

Flow-insensitive, inter-procedural, to a fixpoint: every scope's statements are evaluated
again and again over one shared store (key -> set of abstract values) until no set grows
(bounded by MAX_ROUNDS). Calls found while evaluating are the edges. The analysed code is
parsed, never imported or run; only the standard library's own objects are introspected, as
a stand-in for the kind (class or function) and the defining class that SCIP symbols give.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tools.callgraph_proto.facts import FunctionNode, Scope, collect, module_name

MAX_ROUNDS = 50
MAX_EXTERNAL_COMPONENTS = 6  # an external name longer than this has no value (termination)
MODELLED_DECORATORS = frozenset({"builtins.classmethod", "builtins.staticmethod"})
Value = tuple[Any, ...]
VSet = set[Value]
Edge = tuple[str, str]

BUILTIN_NAMES = frozenset(dir(builtins))
# external functions that call a program function they are given (§3.9): fq -> (callable
# argument positions, keyword names); the callback's caller is the scope calling them.
CALLBACKS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "builtins.map": ((0,), ()),
    "builtins.filter": ((0,), ()),
    "builtins.sorted": ((), ("key",)),
    "builtins.min": ((), ("key",)),
    "builtins.max": ((), ("key",)),
    "builtins.list.sort": ((), ("key",)),
    "functools.reduce": ((0,), ()),
}
# external calls whose result holds the elements of their first argument (§3.6)
ELEMENT_PRESERVING = frozenset(
    {
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.frozenset",
        "builtins.sorted",
        "builtins.reversed",
        "builtins.iter",
        "builtins.filter",
    }
)


def _external_object(fq: str) -> Any:
    """The standard-library object named ``fq`` (never the analysed code), or None."""
    parts = fq.split(".")
    if parts[0] not in sys.stdlib_module_names and parts[0] != "builtins":
        return None
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return None
            obj = getattr(obj, attr)
        return obj
    return None


def external_is_class(fq: str) -> bool:
    return isinstance(_external_object(fq), type)


def external_method(cls_fq: str, name: str) -> str | None:
    """The fq of the function that ``name`` finds on external class ``cls_fq`` (via its MRO)."""
    cls = _external_object(cls_fq)
    if not isinstance(cls, type):
        return None
    for klass in cls.__mro__:
        if name in vars(klass):
            if klass is cls:
                return f"{cls_fq}.{name}"
            return f"{klass.__module__}.{klass.__qualname__}.{name}"
    return None


class Analysis:
    """The store, the scopes and the edges of one analysed tree of modules."""

    def __init__(self, modules: dict[str, tuple[ast.Module, bool]]) -> None:
        self.store: dict[Any, VSet] = {}
        self.keys: dict[Value, set[Any]] = {}  # container -> its constant keys
        self.edges: set[Edge] = set()
        self.modules = set(modules)
        self.scopes: dict[ast.AST, Scope] = {}
        self.module_scope: dict[str, Scope] = {}
        for name, (tree, is_package) in modules.items():
            scopes = collect(name, tree, is_package)
            self.scopes.update(scopes)
            self.module_scope[name] = scopes[tree]
        self.by_qualname = {s.qualname: s for s in self.scopes.values()}
        self.changed = False
        self.current: Scope | None = None
        self.site = ""

    # ----- store
    def get(self, key: Any) -> VSet:
        return self.store.get(key, set())

    def add(self, key: Any, values: Iterable[Value]) -> None:
        bucket = self.store.setdefault(key, set())
        before = len(bucket)
        bucket.update(values)
        if len(bucket) != before:
            self.changed = True

    def add_elem(self, container: Value, key: Any, values: Iterable[Value]) -> None:
        known = self.keys.setdefault(container, set())
        if key not in known:
            known.add(key)
            self.changed = True
        self.add(("elem", container, key), values)

    def elems(self, container: Value, key: Any = None) -> VSet:
        """Elements at a constant key (plus the unknown-key ones), or all of them."""
        keys = self.keys.get(container, set())
        if key is not None:  # a constant key: its own elements and the unknown-key ones
            return self.get(("elem", container, key)) | self.get(("elem", container, "*"))
        out: VSet = set()
        for k in keys:
            out |= self.get(("elem", container, k))
        return out

    # ----- fixpoint
    def run(self) -> int:
        for rounds in range(1, MAX_ROUNDS + 1):
            self.changed = False
            for scope in list(self.scopes.values()):
                self.current = scope
                node = scope.node
                if isinstance(node, ast.Lambda):
                    self.add(("ret", scope.qualname), self.eval(node.body))
                elif isinstance(
                    node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
                ):
                    self.exec_body(node.body)
            if not self.changed:
                return rounds
        return MAX_ROUNDS

    def edge(self, callee: str) -> None:
        assert self.current is not None
        self.edges.add((self.current.qualname, callee))

    # ----- names
    def name_key(self, name: str, scope: Scope) -> Any:
        """The store key of a name read or written in ``scope`` (Python's scoping rules)."""
        if name in scope.globals:
            return ("attr", ("mod", scope.module), name)
        s: Scope | None = scope
        first = True
        while s is not None:
            if s.kind == "module":
                return ("attr", ("mod", s.module), name)
            if (first or s.kind == "function") and name in s.locals:
                return ("attr", ("fn" if s.kind == "function" else "cls", s.qualname), name)
            first = False
            s = s.parent
        raise AssertionError("unreachable")

    def load_name(self, name: str) -> VSet:
        assert self.current is not None
        key = self.name_key(name, self.current)
        values = self.get(key)
        module = self.module_scope[self.current.module]
        unbound = key[1] == ("mod", self.current.module) and name not in module.locals
        if unbound and name in BUILTIN_NAMES:
            return {("ext", f"builtins.{name}")}
        return values

    # ----- classes
    def class_node(self, qualname: str) -> Scope | None:
        return self.by_qualname.get(qualname)

    def bases(self, cls: str) -> list[Value]:
        scope = self.class_node(cls)
        assert scope is not None and isinstance(scope.node, ast.ClassDef)
        out: list[Value] = []
        for i, _ in enumerate(scope.node.bases):
            vals = sorted(self.get(("base", cls, i)), key=repr)
            if vals:
                out.append(vals[0])
        return out

    def mro(self, cls: Value) -> list[Value]:
        """C3 linearisation; external bases end the program part of the MRO."""
        if cls[0] == "ext":
            return [cls]
        seqs = [self.mro(b) for b in self.bases(cls[1])]
        seqs.append(self.bases(cls[1]))
        out = [cls]
        seqs = [list(s) for s in seqs if s]
        while seqs:
            for seq in seqs:
                head = seq[0]
                if not any(head in s[1:] for s in seqs):
                    break
            else:
                return out  # inconsistent MRO: Python raises TypeError; stop
            out.append(head)
            seqs = [[x for x in s if x != head] for s in seqs]
            seqs = [s for s in seqs if s]
        return out

    def class_attr(self, mro: list[Value], name: str) -> tuple[Value, VSet] | None:
        """The first class of ``mro`` that defines ``name``, with the values it binds."""
        for klass in mro:
            if klass[0] == "cls":
                scope = self.class_node(klass[1])
                if scope is not None and name in scope.locals:
                    return klass, self.get(("attr", ("cls", klass[1]), name))
            elif klass[0] == "ext":
                fq = external_method(klass[1], name)
                if fq is not None:
                    return klass, {("ext", fq)}
        return None

    def program_init(self, cls: str) -> str | None:
        found = self.class_attr(self.mro(("cls", cls)), "__init__")
        if found is None or found[0][0] != "cls":
            return None
        fns = [v for v in found[1] if v[0] == "fn"]
        return fns[0][1] if fns else None

    # ----- attributes
    def bind_class_values(self, values: VSet, instance: Value | None, cls: Value) -> VSet:
        out: VSet = set()
        for v in values:
            if v[0] == "fn":
                out.add(("bound", v[1], instance) if instance is not None else v)
            elif v[0] == "cm":
                out.add(("bound", v[1], cls))
            elif v[0] == "sm":
                out.add(("fn", v[1]))
            elif v[0] == "ext" and instance is not None:
                out.add(("xbound", v[1], instance))
            else:
                out.add(v)
        return out

    def get_attr(self, base: Value, name: str) -> VSet:
        kind = base[0]
        if kind == "mod":
            out = set(self.get(("attr", base, name)))
            sub = f"{base[1]}.{name}"
            if sub in self.modules:
                out.add(("mod", sub))
            return out
        if kind == "ext":
            if base[1].count(".") + 1 >= MAX_EXTERNAL_COMPONENTS:
                return set()
            return {("ext", f"{base[1]}.{name}")}
        if kind == "cls":
            found = self.class_attr(self.mro(base), name)
            return self.bind_class_values(found[1], None, base) if found else set()
        if kind == "inst":
            out = set(self.get(("attr", base, name)))
            found = self.class_attr(self.mro(("cls", base[1])), name)
            if found:
                out |= self.bind_class_values(found[1], base, ("cls", base[1]))
            return out
        if kind == "super":
            _, cls, instance = base
            owner = ("cls", instance[1]) if instance[0] == "inst" else instance
            mro = self.mro(owner)
            if ("cls", cls) in mro:
                mro = mro[mro.index(("cls", cls)) + 1 :]
                found = self.class_attr(mro, name)
                if found:
                    bound = instance if instance[0] == "inst" else None
                    return self.bind_class_values(found[1], bound, owner)
            return set()
        if kind == "fn":
            return set(self.get(("attr", ("fnobj", base[1]), name)))
        if kind in ("xinst", "cont"):
            type_fq = base[1] if kind == "xinst" else f"builtins.{base[2]}"
            fq = external_method(type_fq, name)
            return {("xbound", fq, base)} if fq else set()
        return set()

    def set_attr(self, base: Value, name: str, values: VSet) -> None:
        if base[0] in ("mod", "inst"):
            self.add(("attr", base, name), values)
        elif base[0] == "fn":
            self.add(("attr", ("fnobj", base[1]), name), values)
        elif base[0] == "cls":
            self.add(("attr", ("cls", base[1]), name), values)

    # ----- expressions
    def eval(self, node: ast.expr | None) -> VSet:
        if node is None:
            return set()
        method = getattr(self, f"eval_{type(node).__name__}", None)
        if method is None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.eval(child)
            return set()
        result: VSet = method(node)
        return result

    def eval_Name(self, node: ast.Name) -> VSet:
        return self.load_name(node.id)

    def eval_Constant(self, node: ast.Constant) -> VSet:
        if node.value is None or node.value is ...:
            return set()
        return {("xinst", f"builtins.{type(node.value).__name__}")}

    def eval_JoinedStr(self, node: ast.JoinedStr) -> VSet:
        for v in node.values:
            self.eval(v)
        return {("xinst", "builtins.str")}

    def eval_Attribute(self, node: ast.Attribute) -> VSet:
        out: VSet = set()
        for base in self.eval(node.value):
            out |= self.get_attr(base, node.attr)
        return out

    def _container(self, node: ast.expr, type_name: str) -> Value:
        return (
            "cont",
            f"{self.current.module}:{node.lineno}:{node.col_offset}",  # type: ignore[union-attr]
            type_name,
        )

    def _fill(self, cont: Value, elts: list[ast.expr]) -> None:
        index = 0
        for elt in elts:
            if isinstance(elt, ast.Starred):
                for inner in self.eval(elt.value):
                    self.add_elem(cont, "*", self.iter_values(inner, implicit=False))
                index = None  # type: ignore[assignment]
                continue
            values = self.eval(elt)
            self.add_elem(cont, index if index is not None else "*", values)
            if index is not None:
                index += 1

    def eval_List(self, node: ast.List) -> VSet:
        cont = self._container(node, "list")
        self._fill(cont, node.elts)
        return {cont}

    def eval_Tuple(self, node: ast.Tuple) -> VSet:
        cont = self._container(node, "tuple")
        self._fill(cont, node.elts)
        return {cont}

    def eval_Set(self, node: ast.Set) -> VSet:
        cont = self._container(node, "set")
        for elt in node.elts:
            self.add_elem(cont, "*", self.eval(elt))
        return {cont}

    def eval_Dict(self, node: ast.Dict) -> VSet:
        cont = self._container(node, "dict")
        for k, v in zip(node.keys, node.values, strict=True):
            values = self.eval(v)
            if k is None:
                for other in values:
                    for key in self.keys.get(other, set()):
                        self.add_elem(cont, key, self.get(("elem", other, key)))
                continue
            self.eval(k)
            key = k.value if isinstance(k, ast.Constant) else "*"
            self.add_elem(cont, key, values)
        return {cont}

    def _comprehension(self, node: ast.expr, generators: list[ast.comprehension]) -> None:
        for gen in generators:
            values: VSet = set()
            for it in self.eval(gen.iter):
                values |= self.iter_values(it, implicit=True, is_async=bool(gen.is_async))
            self.assign(gen.target, values)
            for cond in gen.ifs:
                self.eval(cond)

    def eval_ListComp(self, node: ast.ListComp) -> VSet:
        self._comprehension(node, node.generators)
        cont = self._container(node, "list")
        self.add_elem(cont, "*", self.eval(node.elt))
        return {cont}

    def eval_SetComp(self, node: ast.SetComp) -> VSet:
        self._comprehension(node, node.generators)
        cont = self._container(node, "set")
        self.add_elem(cont, "*", self.eval(node.elt))
        return {cont}

    def eval_GeneratorExp(self, node: ast.GeneratorExp) -> VSet:
        self._comprehension(node, node.generators)
        cont = self._container(node, "generator")
        self.add_elem(cont, "*", self.eval(node.elt))
        return {cont}

    def eval_DictComp(self, node: ast.DictComp) -> VSet:
        self._comprehension(node, node.generators)
        cont = self._container(node, "dict")
        self.eval(node.key)
        self.add_elem(cont, "*", self.eval(node.value))
        return {cont}

    def eval_Subscript(self, node: ast.Subscript) -> VSet:
        bases = self.eval(node.value)
        self.eval(node.slice)
        key = self.const_key(node.slice)
        out: VSet = set()
        for base in bases:
            if base[0] == "cont":
                if isinstance(key, int) and key < 0 and base[2] in ("list", "tuple"):
                    ints = [k for k in self.keys.get(base, set()) if isinstance(k, int)]
                    key = (max(ints) + 1 + key) if ints else None
                out |= self.elems(base, key)
        return out

    @staticmethod
    def const_key(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool | type(None)):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int)
        ):
            return -node.operand.value
        return None

    def eval_IfExp(self, node: ast.IfExp) -> VSet:
        self.eval(node.test)
        return self.eval(node.body) | self.eval(node.orelse)

    def eval_BoolOp(self, node: ast.BoolOp) -> VSet:
        out: VSet = set()
        for v in node.values:
            out |= self.eval(v)
        return out

    def eval_BinOp(self, node: ast.BinOp) -> VSet:
        left, right = self.eval(node.left), self.eval(node.right)
        str_value = ("xinst", "builtins.str")
        return {str_value} if str_value in left | right else set()

    def eval_NamedExpr(self, node: ast.NamedExpr) -> VSet:
        values = self.eval(node.value)
        self.assign(node.target, values)
        return values

    def eval_Await(self, node: ast.Await) -> VSet:
        return self.eval(node.value)

    def eval_Lambda(self, node: ast.Lambda) -> VSet:
        scope = self.scopes[node]
        self.defaults(scope, node.args)
        return {("fn", scope.qualname)}

    def eval_Yield(self, node: ast.Yield) -> VSet:
        assert self.current is not None
        self.add(("yield", self.current.qualname), self.eval(node.value))
        return set()

    def eval_YieldFrom(self, node: ast.YieldFrom) -> VSet:
        assert self.current is not None
        for v in self.eval(node.value):
            self.add(("yield", self.current.qualname), self.iter_values(v, implicit=False))
        return set()

    def eval_Call(self, node: ast.Call) -> VSet:
        callees = self.eval(node.func)
        args: list[tuple[bool, VSet]] = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                args.append((True, self.eval(a.value)))
            else:
                args.append((False, self.eval(a)))
        kwargs: dict[str | None, VSet] = {}
        for kw in node.keywords:
            kwargs.setdefault(kw.arg, set()).update(self.eval(kw.value))
        consts = [self.const_key(a) for a in node.args]
        out: VSet = set()
        assert self.current is not None
        for callee in callees:
            # containers made by an external call are abstracted by their call site (§3.6)
            self.site = f"{self.current.module}:{node.lineno}:{node.col_offset}"
            out |= self.call(callee, args, kwargs, consts)
        return out

    # ----- calls
    def call(
        self,
        callee: Value,
        args: list[tuple[bool, VSet]],
        kwargs: dict[str | None, VSet],
        consts: list[Any] | None = None,
    ) -> VSet:
        kind = callee[0]
        if kind == "fn":
            self.edge(callee[1])
            return self.enter(callee[1], None, args, kwargs)
        if kind == "bound":
            self.edge(callee[1])
            return self.enter(callee[1], callee[2], args, kwargs)
        if kind == "cls":
            self.edge(callee[1])
            instance: Value = ("inst", callee[1])
            init = self.program_init(callee[1])
            if init is not None:
                self.edge(init)
                self.enter(init, instance, args, kwargs)
            return {instance}
        if kind == "inst":
            found = self.class_attr(self.mro(("cls", callee[1])), "__call__")
            out: VSet = set()
            if found:
                for v in self.bind_class_values(found[1], callee, ("cls", callee[1])):
                    out |= self.call(v, args, kwargs)
            return out
        if kind == "partial":
            bound_args = [
                (False, self.elems(callee, i))
                for i in sorted(k for k in self.keys.get(callee, set()))
            ]
            out = set()
            for f in self.get(("pfn", callee[1])):
                out |= self.call(f, [*bound_args, *args], kwargs)
            return out
        if kind == "ext":
            self.edge(callee[1])
            return self.external(callee[1], None, args, kwargs, consts or [])
        if kind == "xbound" and callee[1] is not None:
            self.edge(callee[1])
            return self.external(callee[1], callee[2], args, kwargs, consts or [])
        return set()

    def positional(self, args: list[tuple[bool, VSet]], i: int) -> VSet:
        return args[i][1] if i < len(args) and not args[i][0] else set()

    def external(
        self,
        fq: str,
        receiver: Value | None,
        args: list[tuple[bool, VSet]],
        kwargs: dict[str | None, VSet],
        consts: list[Any],
    ) -> VSet:
        """The models of external functions (§3.9); other externals return an instance of
        the called class, or nothing."""

        def arg(i: int) -> VSet:
            return self.positional(args, i)

        if fq in CALLBACKS:
            positions, names = CALLBACKS[fq]
            element_args: VSet = set()
            for i in range(len(args)):
                if i not in positions:
                    for v in arg(i):
                        element_args |= self.iter_values(v, implicit=False)
            if receiver is not None:
                element_args |= self.iter_values(receiver, implicit=False)
            for i in positions:
                for f in arg(i):
                    self.call(
                        f, [(False, element_args)] * (2 if fq == "functools.reduce" else 1), {}
                    )
            for name in names:
                for f in kwargs.get(name, set()):
                    self.call(f, [(False, element_args)], {})
        if fq == "builtins.getattr" and len(consts) > 1 and isinstance(consts[1], str):
            out: VSet = set()
            for base in arg(0):
                out |= self.get_attr(base, consts[1])
            return out | arg(2)  # the default always flows (monotone, §3.9)
        if fq == "builtins.setattr" and len(consts) > 1 and isinstance(consts[1], str):
            for base in arg(0):
                self.set_attr(base, consts[1], arg(2))
            return set()
        if fq == "builtins.super":
            return self.super_values()
        if fq == "builtins.classmethod":
            return {("cm", v[1]) for v in arg(0) if v[0] == "fn"}
        if fq == "builtins.staticmethod":
            return {("sm", v[1]) for v in arg(0) if v[0] == "fn"}
        if fq == "builtins.type" and len(args) == 1:
            return {("cls", v[1]) for v in arg(0) if v[0] == "inst"}
        if fq == "functools.partial" and args:
            partial: Value = ("partial", self.site)
            self.add(("pfn", self.site), arg(0))
            for i in range(1, len(args)):
                self.add_elem(partial, i - 1, arg(i))
            return {partial}
        if fq == "builtins.next":
            out = set()
            for v in arg(0):
                out |= self.iter_values(v, implicit=False)
            return out | arg(1)
        if fq in ELEMENT_PRESERVING and args:
            type_name = fq.split(".")[1]
            cont: Value = ("cont", ("call", self.site), type_name)
            for v in arg(0):
                self.add_elem(cont, "*", self.iter_values(v, implicit=False))
            return {cont}
        if fq in ("builtins.enumerate", "builtins.zip", "builtins.dict.items"):
            pair: Value = ("cont", ("pair", self.site), "tuple")
            if fq == "builtins.enumerate":
                for v in arg(0):
                    self.add_elem(pair, 1, self.iter_values(v, implicit=False))
            elif fq == "builtins.zip":
                for i in range(len(args)):
                    for v in arg(i):
                        self.add_elem(pair, i, self.iter_values(v, implicit=False))
            elif receiver is not None:
                self.add_elem(pair, 1, self.elems(receiver))
            outer: Value = ("cont", ("iter", pair), "list")
            self.add_elem(outer, "*", {pair})
            return {outer}
        if receiver is not None and receiver[0] == "cont":
            method = fq.rsplit(".", 1)[1]
            if method in ("append", "add", "insert", "extend") and args:
                values = arg(len(args) - 1)
                if method == "extend":
                    values = {x for v in values for x in self.iter_values(v, implicit=False)}
                self.add_elem(receiver, "*", values)
                return set()
            if method == "get":  # the default always flows (monotone, §3.9)
                return self.elems(receiver, consts[0] if consts else None) | arg(1)
            if method in ("values", "copy", "pop"):
                out = set()
                if method == "values":
                    view: Value = ("cont", ("values", receiver), "list")
                    self.add_elem(view, "*", self.elems(receiver))
                    return {view}
                return self.elems(receiver) if method == "pop" else {receiver}
            if method == "setdefault" and len(args) > 1:
                self.add_elem(receiver, consts[0] if consts else "*", arg(1))
                return self.elems(receiver, consts[0] if consts else None)
        if receiver is None and external_is_class(fq):
            if fq == "builtins.dict" and kwargs:
                made: Value = ("cont", ("call", self.site), "dict")
                for k, vs in kwargs.items():
                    self.add_elem(made, k if k is not None else "*", vs)
                return {made}
            return {("xinst", fq)}
        return {("xres", self.site)}

    def super_values(self) -> VSet:
        scope = self.current
        while scope is not None and scope.enclosing_class is None:
            scope = scope.parent
        if scope is None or not isinstance(scope.node, ast.FunctionDef | ast.AsyncFunctionDef):
            return set()
        cls = scope.enclosing_class
        assert cls is not None
        params = [*scope.node.args.posonlyargs, *scope.node.args.args]
        if not params:
            return set()
        firsts = self.get(("attr", ("fn", scope.qualname), params[0].arg))
        return {("super", cls.qualname, v) for v in firsts if v[0] in ("inst", "cls")}

    def enter(
        self,
        fn: str,
        bound: Value | None,
        args: list[tuple[bool, VSet]],
        kwargs: dict[str | None, VSet],
    ) -> VSet:
        """Bind arguments to the parameters of ``fn`` (§3.3); return its result."""
        scope = self.by_qualname.get(fn)
        if scope is None:
            return set()
        node = scope.node
        assert isinstance(node, FunctionNode)
        a = node.args
        positional = [*a.posonlyargs, *a.args]
        params = [p.arg for p in positional]
        slots: list[VSet] = []
        if bound is not None:
            slots.append({bound})
        star_rest: VSet = set()
        for starred, values in args:
            if starred:
                for v in values:
                    if v[0] == "cont":
                        ints = sorted(k for k in self.keys.get(v, set()) if isinstance(k, int))
                        base = len(slots)
                        for k in ints:
                            while len(slots) <= base + k:
                                slots.append(set())
                            slots[base + k] |= self.get(("elem", v, k))
                        star_rest |= self.get(("elem", v, "*"))
            else:
                slots.append(values)
        filled: set[str] = set()
        extra = ("cont", ("args", fn), "tuple")
        for i, values in enumerate(slots):
            if i < len(params):
                self.add(("attr", ("fn", fn), params[i]), values)
                filled.add(params[i])
            elif a.vararg is not None:
                self.add_elem(extra, i - len(params), values)
        if star_rest:
            for p in params[len(slots) :]:
                self.add(("attr", ("fn", fn), p), star_rest)
                filled.add(p)
        if a.vararg is not None:
            self.add(("attr", ("fn", fn), a.vararg.arg), {extra})
        kw_names = {p.arg for p in [*a.args, *a.kwonlyargs]}
        packed = ("cont", ("kwargs", fn), "dict")
        for name, values in kwargs.items():
            if name is None:
                for v in values:
                    for key in self.keys.get(v, set()):
                        if isinstance(key, str) and key in kw_names:
                            self.add(("attr", ("fn", fn), key), self.get(("elem", v, key)))
                            filled.add(key)
                        elif a.kwarg is not None:
                            self.add_elem(packed, key, self.get(("elem", v, key)))
                continue
            if name in kw_names:
                self.add(("attr", ("fn", fn), name), values)
                filled.add(name)
            elif a.kwarg is not None:
                self.add_elem(packed, name, values)
        if a.kwarg is not None:
            self.add(("attr", ("fn", fn), a.kwarg.arg), {packed})
        # defaults flow only where a call leaves the parameter unfilled (§3.3)
        with_default = params[len(params) - len(a.defaults) :] if a.defaults else []
        with_default += [
            p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None
        ]
        for p in with_default:
            if p not in filled:
                self.add(("attr", ("fn", fn), p), self.get(("default", fn, p)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and self.is_generator(node):
            return {("gen", fn)}
        return self.get(("ret", fn))

    @staticmethod
    def is_generator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        todo: list[ast.AST] = list(node.body)
        while todo:
            n = todo.pop()
            if isinstance(n, ast.Yield | ast.YieldFrom):
                return True
            if not isinstance(
                n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
            ):
                todo.extend(ast.iter_child_nodes(n))
        return False

    def iter_values(self, value: Value, *, implicit: bool, is_async: bool = False) -> VSet:
        """What iterating ``value`` gives; an instance's ``__iter__``/``__next__`` are
        implicit calls (call_kind for/async_for) when ``implicit``."""
        if value[0] == "cont":
            return self.elems(value)
        if value[0] == "gen":
            return self.get(("yield", value[1]))
        if value[0] == "inst":
            first, second = ("__aiter__", "__anext__") if is_async else ("__iter__", "__next__")
            out: VSet = set()
            iterators: VSet = set()
            for f in self.get_attr(value, first):
                iterators |= self.call(f, [], {}) if implicit else self.silent_call(f)
            for it in iterators:
                if it[0] == "inst":
                    for f in self.get_attr(it, second):
                        out |= self.call(f, [], {}) if implicit else self.silent_call(f)
                else:
                    out |= self.iter_values(it, implicit=implicit)
            return out
        return set()

    def silent_call(self, f: Value) -> VSet:
        if f[0] == "bound":
            return self.enter(f[1], f[2], [], {})
        return set()

    # ----- statements
    def defaults(self, scope: Scope, args: ast.arguments) -> None:
        positional = [*args.posonlyargs, *args.args]
        for p, d in zip(
            positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
        ):
            self.add(("default", scope.qualname, p.arg), self.eval(d))
        for p, kd in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kd is not None:
                self.add(("default", scope.qualname, p.arg), self.eval(kd))

    def decorate(self, values: VSet, decorators: list[ast.expr]) -> VSet:
        """Apply decorators bottom-up (call_kind decorator, §3.7)."""
        for dec in reversed(decorators):
            out: VSet = set()
            for d in self.eval(dec):
                result = self.call(d, [(False, values)], {})
                modelled = d[0] == "ext" and d[1] in MODELLED_DECORATORS
                # an external decorator (or an external call's result, functools.wraps(f))
                # returns the decorated definition (§3.7)
                external = d[0] in ("ext", "xinst", "xbound", "xres") and not modelled
                out |= values if external else result
            values = out
        return values

    def assign(self, target: ast.expr, values: VSet) -> None:
        assert self.current is not None
        if isinstance(target, ast.Name):
            self.add(self.name_key(target.id, self.current), values)
        elif isinstance(target, ast.Attribute):
            for base in self.eval(target.value):
                self.set_attr(base, target.attr, values)
        elif isinstance(target, ast.Subscript):
            key = self.const_key(target.slice)
            self.eval(target.slice)
            for base in self.eval(target.value):
                if base[0] == "cont":
                    self.add_elem(base, key if key is not None else "*", values)
        elif isinstance(target, ast.Tuple | ast.List):
            star = next((i for i, e in enumerate(target.elts) if isinstance(e, ast.Starred)), None)
            for i, elt in enumerate(target.elts):
                part: VSet = set()
                exact = star is None or i < star  # the index is known from the left
                for v in values:
                    if v[0] == "cont" and exact:
                        part |= self.elems(v, i)
                    elif v[0] == "cont":
                        part |= self.elems(v)
                    else:
                        part |= self.iter_values(v, implicit=False)
                if isinstance(elt, ast.Starred):
                    cont = self._container(elt, "list")
                    self.add_elem(cont, "*", part)
                    self.assign(elt.value, {cont})
                else:
                    self.assign(elt, part)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, values)

    def import_module_value(self, name: str) -> Value:
        return ("mod", name) if name in self.modules else ("ext", name)

    def exec_body(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.exec(stmt)

    def exec(self, stmt: ast.stmt) -> None:
        scope = self.current
        assert scope is not None
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = self.scopes[stmt]
            self.defaults(inner, stmt.args)
            values = self.decorate({("fn", inner.qualname)}, stmt.decorator_list)
            self.add(self.name_key(stmt.name, scope), values)
        elif isinstance(stmt, ast.ClassDef):
            inner = self.scopes[stmt]
            for i, base in enumerate(stmt.bases):
                self.add(("base", inner.qualname, i), self.eval(base))
            values = self.decorate({("cls", inner.qualname)}, stmt.decorator_list)
            self.add(self.name_key(stmt.name, scope), values)
        elif isinstance(stmt, ast.Assign):
            values = self.eval(stmt.value)
            for target in stmt.targets:
                self.assign(target, values)
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            if stmt.value is not None:
                values = self.eval(stmt.value)
                if isinstance(stmt, ast.AnnAssign):
                    self.assign(stmt.target, values)
                else:
                    self.eval(stmt.target)
        elif isinstance(stmt, ast.Return):
            self.add(("ret", scope.qualname), self.eval(stmt.value))
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            iterated: VSet = set()
            for it in self.eval(stmt.iter):
                iterated |= self.iter_values(
                    it, implicit=True, is_async=isinstance(stmt, ast.AsyncFor)
                )
            self.assign(stmt.target, iterated)
            self.exec_body(stmt.body)
            self.exec_body(stmt.orelse)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            enter, leave = (
                ("__aenter__", "__aexit__")
                if isinstance(stmt, ast.AsyncWith)
                else ("__enter__", "__exit__")
            )
            for item in stmt.items:
                entered: VSet = set()
                for cm in self.eval(item.context_expr):
                    if cm[0] in ("inst",):
                        for f in self.get_attr(cm, enter):
                            entered |= self.call(f, [], {})
                        for f in self.get_attr(cm, leave):
                            self.call(f, [], {})
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, entered)
            self.exec_body(stmt.body)
        elif isinstance(stmt, ast.Raise):
            for v in self.eval(stmt.exc):
                if v[0] == "cls" or (v[0] == "ext" and external_is_class(v[1])):
                    self.call(v, [], {})
            self.eval(stmt.cause)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            self.exec_body(stmt.body)
            for handler in stmt.handlers:
                caught: VSet = set()
                for t in self.eval(handler.type):
                    if t[0] == "cls":
                        caught.add(("inst", t[1]))
                    elif t[0] == "cont":
                        caught |= {("inst", c[1]) for c in self.elems(t) if c[0] == "cls"}
                if handler.name:
                    self.add(self.name_key(handler.name, scope), caught)
                self.exec_body(handler.body)
            self.exec_body(stmt.orelse)
            self.exec_body(stmt.finalbody)
        elif isinstance(stmt, ast.If | ast.While):
            self.eval(stmt.test)
            self.exec_body(stmt.body)
            self.exec_body(stmt.orelse)
        elif isinstance(stmt, ast.Match):
            self.eval(stmt.subject)
            for case in stmt.cases:
                self.eval(case.guard)
                self.exec_body(case.body)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    value = self.import_module_value(alias.name)
                    self.add(self.name_key(alias.asname, scope), {value})
                else:
                    top = alias.name.split(".")[0]
                    self.add(self.name_key(top, scope), {self.import_module_value(top)})
        elif isinstance(stmt, ast.ImportFrom):
            source_name = self.resolve_from(stmt, scope)
            for alias in stmt.names:
                source = self.import_module_value(source_name)
                if alias.name == "*":
                    if source[0] == "mod":
                        exporter = self.module_scope[source[1]]
                        for name in exporter.locals:
                            if not name.startswith("_"):
                                scope.locals.add(name)
                                self.add(self.name_key(name, scope), self.get_attr(source, name))
                    continue
                self.add(
                    self.name_key(alias.asname or alias.name, scope),
                    self.get_attr(source, alias.name),
                )
        elif isinstance(
            stmt, ast.Delete | ast.Pass | ast.Break | ast.Continue | ast.Global | ast.Nonlocal
        ):
            pass
        else:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self.eval(child)

    def resolve_from(self, stmt: ast.ImportFrom, scope: Scope) -> str:
        if not stmt.level:
            return stmt.module or ""
        package = (
            scope.module
            if self.module_scope[scope.module].is_package
            else (scope.module.rsplit(".", 1)[0])
        )
        parts = package.split(".")
        if stmt.level > 1:
            parts = parts[: len(parts) - (stmt.level - 1)]
        return ".".join([*parts, stmt.module] if stmt.module else parts)


def analyse(root: Path) -> tuple[dict[str, list[str]], int]:
    """The call graph (caller -> sorted callees) of every module under ``root``, and the
    number of fixpoint rounds. Files are parsed with ``ast``; nothing is imported or run."""
    modules: dict[str, tuple[ast.Module, bool]] = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        name, is_package = module_name(root, path)
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError, RecursionError):
            continue  # an unparsable file gives no evidence (CONTRACT: parse errors)
        if name:
            modules[name] = (tree, is_package)
    analysis = Analysis(modules)
    rounds = analysis.run()
    graph: dict[str, set[str]] = {}
    for caller, callee in analysis.edges:
        graph.setdefault(caller, set()).add(callee)
    return {k: sorted(v) for k, v in sorted(graph.items())}, rounds

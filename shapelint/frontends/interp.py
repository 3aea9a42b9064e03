"""A small abstract interpreter for the Python that model definitions are written in.

It evaluates a module's statements over abstract values: folded constants, lists and dicts,
user functions and classes, framework objects supplied by a frontend, and ``UNKNOWN`` for
everything it cannot resolve.  Unknown conditions run both branches *speculatively* (nothing
found there is reported) and merge what they did; loops over unknown iterables run once
speculatively and then forget whatever they touched.  The goal is exactness where the code
is literal and silence everywhere else.
"""

from __future__ import annotations

import libcst as cst

from shapelint.frontends import budget, literals
from shapelint.frontends.data import NOT_DATA, Array, DataValues, LongRange
from shapelint.ir import UNKNOWN, Tensor
from shapelint.parse import import_bindings
from shapelint.project import importer_for

MAX_DEPTH = 24
MAX_UNROLL = 512
MAX_RECURSION = 4
STEP_BUDGET = 200_000


class BudgetExceeded(Exception):
    pass


class ModuleRef:
    """An imported module or an attribute path below one (``torch.nn.Conv2d``)."""

    __slots__ = ("qualname",)

    def __init__(self, qualname: str):
        self.qualname = qualname

    def __repr__(self):
        return f"ModuleRef({self.qualname})"


class Function:
    def __init__(self, node: cst.FunctionDef, interp, defaults: dict, closure: dict | None,
                 kind: str = "function"):
        self.node = node
        self.name = node.name.value
        self.defaults = defaults
        self.closure = closure  # enclosing function's locals, for nested defs
        self.parent = None  # the enclosing Function, whose own closure comes next in lookups
        self.kind = kind  # function | staticmethod | classmethod | property
        self.owner = None  # the UserClass whose body defined it
        self.globals = interp.active_globals  # the module it was defined in

    def scopes(self):
        """The locals of every enclosing function, innermost first."""
        func = self
        while func is not None:
            if func.closure is not None:
                yield func.closure
            func = func.parent


class Lambda(Function):
    """``lambda params: expression``; called like a function whose body returns the expression."""

    def __init__(self, node: cst.Lambda, interp, defaults: dict, closure: dict | None):
        self.node = node
        self.name = "<lambda>"
        self.defaults = defaults
        self.closure = closure
        self.parent = None
        self.kind = "function"
        self.owner = None
        self.globals = interp.active_globals


class BoundMethod:
    def __init__(self, func: Function, receiver):
        self.func = func
        self.receiver = receiver


class UserClass:
    def __init__(self, node: cst.ClassDef, bases: list, attrs: dict):
        self.node = node
        self.name = node.name.value
        self.bases = bases
        self.attrs = attrs

    def mro(self):
        seen, order = set(), []

        def visit(cls):
            if id(cls) in seen:
                return
            seen.add(id(cls))
            order.append(cls)
            for base in cls.bases:
                if isinstance(base, UserClass):
                    visit(base)

        visit(self)
        return order

    def lookup(self, name):
        for cls in self.mro():
            if name in cls.attrs:
                return cls.attrs[name]
        return None

    def external_bases(self):
        return [b for cls in self.mro() for b in cls.bases if not isinstance(b, UserClass)]


class Instance:
    def __init__(self, cls: UserClass):
        self.cls = cls
        self.attrs: dict = {}


class SuperProxy:
    def __init__(self, cls: UserClass, receiver):
        self.cls = cls
        self.receiver = receiver


class PyMethod:
    """A method of a Python container value (``layers.append``)."""

    def __init__(self, receiver, name: str):
        self.receiver = receiver
        self.name = name


class ExternalCall:
    """A callable a frontend supplies (a container's ``append``, a tensor's ``get_shape``):
    ``run(args, kwargs, node)`` gives the call's value.  ``args`` / ``kwargs`` may be UNKNOWN."""

    __slots__ = ("run",)

    def __init__(self, run):
        self.run = run


class StatefulValue:
    """The protocol of a framework value whose state a branch may change (a ``Sequential`` being
    filled, a layer pinned by its first call).  The interpreter saves the state before a
    speculative branch mutates it, restores it afterwards, and merges or forgets what the
    branches did; plain instances, lists and dicts follow the same protocol inside the
    interpreter.  A frontend value that the program mutates subclasses this and calls
    ``Interpreter.record(value)`` before each mutation."""

    def snapshot(self):
        """The value's state, as a copy a later mutation does not change."""
        raise NotImplementedError

    def restore(self, state) -> None:
        raise NotImplementedError

    def merge_states(self, left, right):
        """The state after one of two paths ran, which left the states ``left`` and ``right``."""
        raise NotImplementedError

    def forget_state(self, state):
        """``state`` with whatever an unknown number of loop iterations may have changed forgotten."""
        raise NotImplementedError


class Builtin:
    def __init__(self, name: str, receiver=None):
        self.name = name
        self.receiver = receiver  # bound first argument (instance.__setattr__ -> setattr(instance, ...))


BUILTIN_NAMES = {"range", "len", "int", "float", "min", "max", "sum", "abs", "list", "tuple", "enumerate",
                 "zip", "reversed", "isinstance", "super", "setattr", "getattr", "hasattr", "print", "dict",
                 "str", "round", "sorted", "any", "all", "bool", "type", "iter", "next", "map", "divmod",
                 "issubclass", "set", "id"}


class Frame:
    def __init__(self, local: dict, func: Function | None = None, cls: UserClass | None = None):
        self.locals = local
        self.func = func
        self.cls = cls
        self.returned = False
        self.return_values: list = []
        self.declared: dict = {}  # names declared ``global`` / ``nonlocal`` in this function
        self.in_try = 0  # inside a try body: a raise may be caught, the path goes on


class Interpreter:
    """Evaluates a parsed module; a frontend supplies framework semantics via ``hooks``."""

    def __init__(self, module: cst.Module, hooks, script_name: str = "__main__"):
        self.module = module
        self.hooks = hooks
        self.globals: dict = {"__name__": script_name}
        # Imported modules run in this interpreter under their own globals (shapelint/project.py):
        # the module whose code runs now, and the call in this module's code that entered another's.
        self.active_globals: dict = self.globals
        self.anchor = None
        self.foreign_calls: set = set()  # ids of the calls evaluated in other modules' code
        self.importer = importer_for(self)
        self.depth = 0
        self.steps = 0
        self.budget = budget.current()  # the file's, shared by its interpreters
        self.speculative = 0
        self.journal: list[dict] | None = None
        self.opaque: set = set()
        self.kept: list = []  # objects known by id (opaque, tainted, modelled): kept alive so ids stay unique
        self.classes: list[UserClass] = []
        self.call_stack: list = []
        self._jumps: dict = {}  # id(For node) -> whether its body breaks/continues (a tree walk)
        self.tainted: set = set()  # ids of instances that may hold attributes under unknown names
        self.data = DataValues(self)  # arrays, datasets and loaders (frontends/data.py)

    # ----- speculation and mutation journal -------------------------------------------------

    def record(self, obj):
        """Before mutating ``obj`` inside speculation, save its state once per journal level."""
        if self.journal is None:
            return
        level = self.journal[-1]
        if id(obj) in level:
            return
        if isinstance(obj, Instance):
            level[id(obj)] = (obj, dict(obj.attrs))
        elif isinstance(obj, list):
            level[id(obj)] = (obj, list(obj))
        elif isinstance(obj, dict):
            level[id(obj)] = (obj, dict(obj))
        elif isinstance(obj, StatefulValue):
            level[id(obj)] = (obj, obj.snapshot())

    @staticmethod
    def _state(obj):
        if isinstance(obj, Instance):
            return dict(obj.attrs)
        if isinstance(obj, list):
            return list(obj)
        if isinstance(obj, dict):
            return dict(obj)
        return obj.snapshot()

    @staticmethod
    def _restore(obj, state):
        if isinstance(obj, Instance):
            obj.attrs = dict(state)
        elif isinstance(obj, list):
            obj[:] = state
        elif isinstance(obj, dict):
            obj.clear()
            obj.update(state)
        else:
            obj.restore(state)

    def keep(self, obj):
        """Keep ``obj`` alive for the run, so that its ``id`` names it alone."""
        self.kept.append(obj)

    def make_opaque(self, obj):
        self.opaque.add(id(obj))
        self.kept.append(obj)

    def run_speculative(self, body, frame: Frame):
        """Run ``body`` with findings suppressed; return (locals after, mutated objects, returned)."""
        saved_locals = dict(frame.locals)
        saved_returned = frame.returned
        outer = self.journal
        self.journal = (outer or []) + [{}]
        self.speculative += 1
        try:
            body()
        finally:
            self.speculative -= 1
            level = self.journal[-1]
            self.journal = outer
        after_locals = dict(frame.locals)
        returned = frame.returned
        mutated = {}
        for key, (obj, before) in level.items():
            mutated[key] = (obj, before, self._state(obj))
            self._restore(obj, before)
            if outer is not None and key not in outer[-1]:
                outer[-1][key] = (obj, before)
        frame.locals.clear()
        frame.locals.update(saved_locals)
        frame.returned = saved_returned
        return after_locals, mutated, returned

    def merge_value(self, a, b):
        if a is b:
            return a
        if literals.is_plain(a) and literals.is_plain(b) and type(a) is type(b):
            try:
                if a == b:
                    return a
            except Exception:  # noqa: BLE001
                pass
        if isinstance(a, Array) and isinstance(b, Array):
            return self.data.merge(a, b)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            return self.hooks.merge_tensors(a, b)
        return UNKNOWN

    def _merge_states(self, obj, left, right):
        if isinstance(obj, Instance) or isinstance(obj, dict):
            merged = {}
            for key in set(left) | set(right):
                merged[key] = self.merge_value(left.get(key, UNKNOWN), right.get(key, UNKNOWN))
            return merged
        if isinstance(obj, list):
            if len(left) == len(right) and all(x is y for x, y in zip(left, right)):
                return list(left)
            self.make_opaque(obj)
            return list(left) if len(left) >= len(right) else list(right)
        return obj.merge_states(left, right)

    def apply_branches(self, frame: Frame, runs: list):
        """Run each branch speculatively from the same state and merge the outcomes."""
        outcomes = [self.run_speculative(run, frame) for run in runs]
        live = [o for o in outcomes if not o[2]]
        if not live:
            frame.returned = True
            return
        # Locals: names bound on every live path with agreeing values survive.
        names = set()
        for loc, _, _ in live:
            names |= set(loc)
        merged = {}
        for name in names:
            values = [loc.get(name, UNKNOWN) for loc, _, _ in live]
            value = values[0]
            for other in values[1:]:
                value = self.merge_value(value, other)
            merged[name] = value
        frame.locals.clear()
        frame.locals.update(merged)
        # Mutated objects: merge their state on live paths (an untouched path keeps "before").
        touched = {}
        for _, mutated, _ in live:
            for key, (obj, before, after) in mutated.items():
                touched.setdefault(key, (obj, before, []))[2].append(after)
        for key, (obj, before, afters) in touched.items():
            self.record(obj)
            states = afters + [before] * (len(live) - len(afters))
            state = states[0]
            for other in states[1:]:
                state = self._merge_states(obj, state, other)
            self._restore(obj, state)

    def havoc(self, frame: Frame, body):
        """Run ``body`` once speculatively, then forget everything it assigned or mutated."""
        after, mutated, _ = self.run_speculative(body, frame)
        for name, value in after.items():
            if name not in frame.locals or frame.locals[name] is not value:
                frame.locals[name] = self.hooks.forget(value)
        for obj, before, after_state in mutated.values():
            self.record(obj)
            if isinstance(obj, Instance):
                for key in set(after_state) | set(before):
                    if before.get(key, UNKNOWN) is not after_state.get(key, UNKNOWN):
                        obj.attrs[key] = self.hooks.forget(after_state.get(key, UNKNOWN))
            elif isinstance(obj, (list, dict)):
                self.make_opaque(obj)
            else:
                obj.restore(obj.forget_state(after_state))

    # ----- statements -----------------------------------------------------------------------

    def tick(self):
        self.steps += 1
        work = self.budget
        work.left -= 1
        if self.steps > STEP_BUDGET or work.left < 0:
            work.exhausted(self, self.steps > STEP_BUDGET)
            raise BudgetExceeded()

    def run_module(self):
        self.bind_imports(self.module.body, self.globals)
        frame = Frame(self.globals)
        self.exec_block(self.module.body, frame)

    def run_foreign(self, module: cst.Module, scope: dict):
        """Run an imported module's top level under its own globals ``scope``."""
        saved = self.active_globals, self.classes, self.call_stack, getattr(self.hooks, "current", None)
        self.active_globals, self.classes, self.call_stack = scope, [], []
        if saved[3] is not None:
            self.hooks.current = None  # what the module's own code builds is not this file's model
        try:
            self.bind_imports(module.body, scope)
            self.exec_block(module.body, Frame(scope))
        except (BudgetExceeded, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - what another module's code does wrong leaves its names unknown
            pass
        finally:
            self.active_globals, self.classes, self.call_stack = saved[:3]
            if saved[3] is not None:
                self.hooks.current = saved[3]

    def import_values(self, small):
        """(local name, value) pairs an import statement binds."""
        pairs = self.importer.bindings(small, self.active_globals.get("__package__")) \
            if self.importer is not None else import_bindings(small)
        return [(local, ModuleRef(qual)) for local, qual in pairs]

    def bind_imports(self, body, scope: dict):
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        for local, value in self.import_values(small):
                            scope[local] = value

    def exec_block(self, body, frame: Frame):
        for stmt in body:
            if frame.returned:
                return
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt, frame: Frame):
        self.tick()
        if isinstance(stmt, cst.BaseSmallStatement):
            # the body of a one-line suite: ``if flag: x = self.extra(x)``
            self.exec_small(stmt, frame)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if frame.returned:
                    return
                self.exec_small(small, frame)
        elif isinstance(stmt, cst.FunctionDef):
            frame.locals[stmt.name.value] = self.define_function(stmt, frame)
        elif isinstance(stmt, cst.ClassDef):
            cls = self.define_class(stmt, frame)
            frame.locals[stmt.name.value] = cls
        elif isinstance(stmt, cst.If):
            self.exec_if(stmt, frame)
        elif isinstance(stmt, cst.For):
            self.exec_for(stmt, frame)
        elif isinstance(stmt, cst.While):
            self.havoc(frame, lambda: self.exec_block(stmt.body.body, frame))
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, UNKNOWN if value is UNKNOWN else self.hooks.enter(value), frame)
            self.exec_block(stmt.body.body, frame)
        elif isinstance(stmt, cst.Try):
            # A failure the handlers catch is not a crash: what the body does is not reported.
            guarded = any(_catches_shape_errors(h) for h in stmt.handlers)
            self.speculative += guarded
            frame.in_try += 1
            try:
                self.exec_block(stmt.body.body, frame)
            finally:
                self.speculative -= guarded
                frame.in_try -= 1
            for handler in stmt.handlers:
                self.havoc(frame, lambda h=handler: self.exec_block(h.body.body, frame))
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, frame)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body.body, frame)
        # Match, TryStar and anything newer: not modelled; names they bind stay as they were
        # only if untouched, so forget what they assign.
        elif hasattr(stmt, "body"):
            self.havoc(frame, lambda: None)

    def exec_small(self, small, frame: Frame):
        if isinstance(small, cst.Assign):
            value = self.eval(small.value, frame)
            for target in small.targets:
                self.assign(target.target, value, frame)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, frame), frame)
        elif isinstance(small, cst.AugAssign):
            current = self.eval(small.target, frame)
            value = self.eval(small.value, frame)
            op_type = type(small.operator).__name__.replace("Assign", "")
            if isinstance(current, list) and op_type == "Add":
                if isinstance(value, (list, tuple)):
                    self.record(current)
                    current.extend(value)
                    return
                self.record(current)
                self.make_opaque(current)
                return
            if isinstance(current, Tensor):
                result = self.hooks.augmented(getattr(cst, op_type, None), current, value, small)
            else:
                result = self.binary(getattr(cst, op_type, None), current, value, small)
            self.assign(small.target, result, frame)
        elif isinstance(small, cst.Expr):
            self.eval(small.value, frame)
        elif isinstance(small, cst.Return):
            value = self.eval(small.value, frame) if small.value is not None else None
            frame.return_values.append(value)
            frame.returned = True
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            for local, value in self.import_values(small):
                frame.locals[local] = value
        elif isinstance(small, cst.Raise):
            # A path that raises ends the function (outside a try, whose handlers may catch it).
            if frame.func is not None and not frame.in_try:
                frame.returned = True
        elif isinstance(small, cst.Del):
            pass
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            kind = "global" if isinstance(small, cst.Global) else "nonlocal"
            for item in small.names:
                frame.declared[item.name.value] = kind

    def exec_if(self, stmt: cst.If, frame: Frame):
        cond = self.truth(self.eval(stmt.test, frame))
        orelse = stmt.orelse
        if cond is True:
            self.exec_block(stmt.body.body, frame)
            return
        if cond is False:
            self.exec_else(orelse, frame)
            return
        self.apply_branches(frame, [lambda: self.exec_block(stmt.body.body, frame),
                                    lambda: self.exec_else(orelse, frame)])

    def exec_else(self, orelse, frame):
        if orelse is None:
            return
        if isinstance(orelse, cst.If):
            self.exec_if(orelse, frame)
        else:
            self.exec_block(orelse.body.body, frame)

    def exec_data_loop(self, stmt: cst.For, element, frame: Frame, last=None):
        """A loop over data (a loader, a dataset, an array): its first iteration runs for real on a
        typical element, so model calls and losses in the body are checked; when the loop's last
        element differs (a loader's last, smaller batch) and the typical one ran clean, the body runs
        for real on it too (``last`` = (element, why)) unless something failed before; the iterations
        after the first are run speculatively and forgotten, like any loop."""
        def body(item=element):
            self.assign(stmt.target, item, frame)
            self.exec_block(stmt.body.body, frame)

        failed = self.hooks.fatal_nodes()
        body()
        if frame.returned:
            return
        # the last batch comes at the end of the first epoch: only a program that got there so far
        if last is not None and not failed and not self.hooks.fatal_nodes():
            body(last[0])
            for node in self.hooks.fatal_nodes():
                node.hint = last[1]
            if frame.returned:
                return
        self.havoc(frame, body)

    def exec_for(self, stmt: cst.For, frame: Frame):
        value = self.eval(stmt.iter, frame)
        iterable = self.iterate(value)
        has_jump = self._jumps.get(id(stmt))
        if has_jump is None:
            has_jump = self._jumps[id(stmt)] = _has_jump(stmt.body)
        if iterable is None and stmt.orelse is None:
            element = self.data.element(value)
            if element is not NOT_DATA:
                self.exec_data_loop(stmt, element, frame, self.data.last_element(value))
                return
        if iterable is None or has_jump or len(iterable) > MAX_UNROLL or stmt.orelse is not None:
            def body():
                self.assign(stmt.target, UNKNOWN, frame)
                self.exec_block(stmt.body.body, frame)
            self.havoc(frame, body)
            return
        for item in iterable:
            self.assign(stmt.target, item, frame)
            self.exec_block(stmt.body.body, frame)
            if frame.returned:
                return

    def truth(self, value):
        if value is UNKNOWN:
            return None
        if literals.is_plain(value):
            return bool(value)
        if isinstance(value, (Instance, UserClass, Function, BoundMethod)):
            return True
        return self.hooks.truth(value)

    def iterate(self, value):
        if isinstance(value, (tuple, list)) and id(value) not in self.opaque:
            return list(value)
        if isinstance(value, dict) and id(value) not in self.opaque:
            return list(value.keys())
        if isinstance(value, str):
            return list(value)
        return self.hooks.iterate(value)

    # ----- binding ----------------------------------------------------------------------------

    def assign(self, target, value, frame: Frame):
        if isinstance(target, cst.Name):
            scope = frame.declared.get(target.value)
            if scope == "global" and frame.locals is not self.active_globals:
                self.record(self.active_globals)
                self.active_globals[target.value] = value
            elif scope == "nonlocal" and frame.func is not None \
                    and (owner := next((s for s in frame.func.scopes() if target.value in s), None)) is not None:
                self.record(owner)
                owner[target.value] = value
            elif scope == "nonlocal":
                frame.locals[target.value] = UNKNOWN  # an enclosing scope we do not track
            else:
                frame.locals[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            items = self.iterate(value) if value is not UNKNOWN else None
            star = [i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)]
            if items is not None and not star and len(items) != len(elements):
                items = None
            if items is not None and star:
                s = star[0]
                tail = len(elements) - s - 1
                if len(items) < len(elements) - 1:
                    items = None
                else:
                    items = items[:s] + [list(items[s:len(items) - tail])] + items[len(items) - tail:]
            for i, element in enumerate(elements):
                self.assign(element.value, items[i] if items is not None else UNKNOWN, frame)
        elif isinstance(target, cst.Attribute):
            owner = self.eval(target.value, frame)
            self.set_attr(owner, target.attr.value, value)
        elif isinstance(target, cst.Subscript):
            owner = self.eval(target.value, frame)
            key = UNKNOWN
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, frame)
                if isinstance(owner, dict) and literals.is_plain(key) and not isinstance(key, (list, dict)):
                    self.record(owner)
                    owner[key] = value
                    return
                if isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
                    self.record(owner)
                    owner[key] = value
                    return
            if isinstance(owner, (list, dict)):
                self.record(owner)
                self.make_opaque(owner)
            else:
                self.hooks.set_item(owner, key, value)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, frame)

    def set_attr(self, owner, name, value):
        if isinstance(owner, Instance):
            self.record(owner)
            owner.attrs[name] = value
            self.hooks.attribute_set(owner, name, value)
        elif isinstance(owner, UserClass):
            owner.attrs[name] = value

    def define_function(self, node: cst.FunctionDef, frame: Frame) -> Function:
        kind = "function"
        for decorator in node.decorators:
            dec = decorator.decorator
            name = dec.value if isinstance(dec, cst.Name) else None
            if name in ("staticmethod", "classmethod", "property"):
                kind = name
        defaults = {}
        params = node.params
        for param in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            if param.default is not None:
                defaults[param.name.value] = self.eval(param.default, frame)
        closure = frame.locals if frame.func is not None else None
        func = Function(node, self, defaults, closure, kind)
        func.parent = frame.func
        return func

    def define_class(self, node: cst.ClassDef, frame: Frame) -> UserClass:
        bases = [self.eval(arg.value, frame) for arg in node.bases if arg.keyword is None and arg.star == ""]
        cls = UserClass(node, bases, {})
        body_frame = Frame({}, func=None, cls=cls)
        body_frame.locals = cls.attrs
        # Class bodies see module globals through the fallback in lookup().
        saved = self.call_stack
        self.call_stack = saved + [frame]
        try:
            if isinstance(node.body, cst.IndentedBlock):
                for stmt in node.body.body:
                    if isinstance(stmt, cst.FunctionDef):
                        method = self.define_function(stmt, frame)
                        method.owner = cls
                        cls.attrs[stmt.name.value] = method
                    else:
                        self.exec_stmt(stmt, body_frame)
        finally:
            self.call_stack = saved
        self.classes.append(cls)
        return cls

    # ----- expressions --------------------------------------------------------------------------

    def lookup(self, name: str, frame: Frame):
        value = self._lookup(name, frame)
        if self.importer is not None and isinstance(value, ModuleRef):
            return self.importer.resolve(value)
        return value

    def _lookup(self, name: str, frame: Frame):
        if name in frame.locals:
            return frame.locals[name]
        if frame.func is not None:
            for scope in frame.func.scopes():
                if name in scope:
                    return scope[name]
        for outer in reversed(self.call_stack):
            if outer.func is None and name in outer.locals:
                return outer.locals[name]
        if name in self.active_globals:
            return self.active_globals[name]
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        if name in BUILTIN_NAMES:
            return Builtin(name)
        return UNKNOWN

    def eval(self, node, frame: Frame):
        self.tick()
        try:
            return self._eval(node, frame)
        except RecursionError:
            return UNKNOWN

    def _eval(self, node, frame: Frame):
        if isinstance(node, cst.Name):
            return self.lookup(node.value, frame)
        if isinstance(node, cst.Integer) or isinstance(node, cst.Float):
            return literals.number_value(node)
        if isinstance(node, cst.Imaginary):
            return UNKNOWN
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return literals.string_value(node)
        if isinstance(node, cst.FormattedString):
            return self.eval_fstring(node, frame)
        if isinstance(node, cst.Attribute):
            return self.get_attr(self.eval(node.value, frame), node.attr.value, node)
        if isinstance(node, cst.Call):
            return self.eval_call(node, frame)
        if isinstance(node, cst.BinaryOperation):
            left = self.eval(node.left, frame)
            right = self.eval(node.right, frame)
            return self.binary(type(node.operator), left, right, node)
        if isinstance(node, cst.UnaryOperation):
            value = self.eval(node.expression, frame)
            if isinstance(node.operator, cst.Not):
                t = self.truth(value)
                return UNKNOWN if t is None else (not t)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if isinstance(node.operator, cst.Minus):
                    return -value
                if isinstance(node.operator, cst.Plus):
                    return value
                if isinstance(node.operator, cst.BitInvert) and isinstance(value, int):
                    return ~value
            return self.hooks.unary(value, node)
        if isinstance(node, cst.BooleanOperation):
            left = self.eval(node.left, frame)
            t = self.truth(left)
            if t is None:
                self.eval(node.right, frame)
                return UNKNOWN
            if isinstance(node.operator, cst.And):
                return self.eval(node.right, frame) if t else left
            return left if t else self.eval(node.right, frame)
        if isinstance(node, cst.Comparison):
            return self.eval_compare(node, frame)
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            items = self.eval_elements(node.elements, frame)
            if items is UNKNOWN:
                return UNKNOWN
            return tuple(items) if isinstance(node, cst.Tuple) else (items if isinstance(node, cst.List) else UNKNOWN)
        if isinstance(node, cst.Dict):
            result = {}
            for element in node.elements:
                if isinstance(element, cst.StarredDictElement):
                    inner = self.eval(element.value, frame)
                    if not isinstance(inner, dict) or id(inner) in self.opaque:
                        return UNKNOWN
                    result.update(inner)
                    continue
                key = self.eval(element.key, frame)
                value = self.eval(element.value, frame)
                if isinstance(key, Tensor):
                    result[key] = value  # {placeholder: batch}: a feed_dict, keyed by the tensor itself
                    continue
                if key is UNKNOWN or not literals.is_plain(key) or isinstance(key, (list, dict)):
                    return UNKNOWN
                result[key] = value
            return result
        if isinstance(node, cst.Subscript):
            return self.eval_subscript(node, frame)
        if isinstance(node, cst.IfExp):
            t = self.truth(self.eval(node.test, frame))
            if t is True:
                return self.eval(node.body, frame)
            if t is False:
                return self.eval(node.orelse, frame)
            return self.merge_value(self.eval(node.body, frame), self.eval(node.orelse, frame))
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self.eval_comprehension(node, frame)
        if isinstance(node, cst.DictComp):
            return UNKNOWN
        if isinstance(node, cst.NamedExpr):
            value = self.eval(node.value, frame)
            self.assign(node.target, value, frame)
            return value
        if isinstance(node, cst.Ellipsis):
            return Ellipsis
        if isinstance(node, cst.Lambda):
            defaults = {}
            params = node.params
            for param in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
                if param.default is not None:
                    defaults[param.name.value] = self.eval(param.default, frame)
            func = Lambda(node, self, defaults, frame.locals if frame.func is not None else None)
            func.parent = frame.func
            return func
        return UNKNOWN

    def eval_fstring(self, node: cst.FormattedString, frame):
        """f"conv{i}": folded when every field is a plain int or str without conversion or format spec."""
        if "b" in node.prefix.lower():
            return UNKNOWN
        text = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                if "{" in part.value or "}" in part.value or "\\" in part.value:
                    return UNKNOWN  # escaped braces / escapes: not worth folding
                text.append(part.value)
                continue
            value = self.eval(part.expression, frame)
            if part.conversion is not None or part.format_spec is not None or part.equal is not None:
                return UNKNOWN
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                return UNKNOWN
            text.append(str(value))
        return "".join(text)

    def eval_elements(self, elements, frame):
        items = []
        for element in elements:
            if isinstance(element, cst.StarredElement):
                inner = self.iterate(self.eval(element.value, frame))
                if inner is None:
                    return UNKNOWN
                items.extend(inner)
            else:
                items.append(self.eval(element.value, frame))
        return items

    def eval_compare(self, node: cst.Comparison, frame):
        left = self.eval(node.left, frame)
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            op = type(target.operator)
            if op in (cst.Is, cst.IsNot):
                if left is UNKNOWN or right is UNKNOWN:
                    outcome = UNKNOWN
                elif right is None or left is None:
                    outcome = (left is None) == (right is None) if (left is None or right is None) else UNKNOWN
                    if left is None and right is None:
                        outcome = True
                elif isinstance(left, bool) and isinstance(right, bool):
                    outcome = left is right
                else:
                    outcome = UNKNOWN
                if outcome is not UNKNOWN and op is cst.IsNot:
                    outcome = not outcome
            else:
                outcome = literals.compare(op, left, right)
            if outcome is UNKNOWN:
                return UNKNOWN
            if not outcome:
                result = False
            left = right
        return result

    def eval_subscript(self, node: cst.Subscript, frame):
        value = self.eval(node.value, frame)
        if len(node.slice) != 1:
            index = tuple(self._slice_value(s.slice, frame) for s in node.slice)
        else:
            index = self._slice_value(node.slice[0].slice, frame)
        if index is UNKNOWN:
            if isinstance(value, Array) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
                return self.data.window(value, self._window_size(node.slice[0].slice, frame))
            return self.hooks.subscript(value, UNKNOWN, node)
        if isinstance(value, (tuple, list, str)) and id(value) not in self.opaque:
            if isinstance(index, (int, slice)) and not isinstance(index, bool):
                try:
                    result = value[index]
                except (IndexError, TypeError, ValueError):
                    return UNKNOWN
                return list(result) if isinstance(result, list) else result
            return UNKNOWN
        if isinstance(value, dict) and id(value) not in self.opaque:
            try:
                return value.get(index, UNKNOWN)
            except TypeError:
                return UNKNOWN
        if self.data.is_data(value):
            result = self.data.subscript(value, index, node)
            if result is not NOT_DATA:
                return result
        return self.hooks.subscript(value, index, node)

    def _window_size(self, part: cst.Slice, frame):
        """``x[i:i + bs]``: ``bs`` elements (the last window may hold fewer), else None."""
        lower, upper = part.lower, part.upper
        if part.step is not None or lower is None or not isinstance(upper, cst.BinaryOperation) \
                or not isinstance(upper.operator, cst.Add) or not lower.deep_equals(upper.left):
            return None
        size = self.eval(upper.right, frame)
        return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None

    def _slice_value(self, part, frame):
        if isinstance(part, cst.Index):
            return self.eval(part.value, frame)
        bounds = []
        for item in (part.lower, part.upper, part.step):
            if item is None:
                bounds.append(None)
                continue
            value = self.eval(item, frame)
            if value is not None and not isinstance(value, int):
                return UNKNOWN
            bounds.append(value)
        return slice(*bounds)

    def eval_comprehension(self, node, frame):
        clauses = []
        clause = node.for_in
        while clause is not None:
            clauses.append(clause)
            clause = clause.inner_for_in
        scope = Frame(dict(frame.locals), func=frame.func)
        results = []

        def run(level):
            if level == len(clauses):
                results.append(self.eval(node.elt, scope))
                return True
            clause = clauses[level]
            items = self.iterate(self.eval(clause.iter, scope))
            if items is None or len(items) > MAX_UNROLL:
                return False
            for item in items:
                self.assign(clause.target, item, scope)
                keep = True
                for cond in clause.ifs:
                    t = self.truth(self.eval(cond.test, scope))
                    if t is None:
                        return False
                    keep = keep and t
                if keep and not run(level + 1):
                    return False
            return True

        if not run(0):
            return UNKNOWN
        return results

    def binary(self, op_type, left, right, node):
        if left is UNKNOWN or right is UNKNOWN:
            if isinstance(left, Tensor) or isinstance(right, Tensor):
                return self.hooks.binary(op_type, left, right, node)
            return UNKNOWN
        if literals.is_plain(left) and literals.is_plain(right):
            return literals.binary(op_type, left, right)
        if isinstance(left, Array) or isinstance(right, Array):
            result = self.data.binary(op_type, left, right, node)
            if result is not NOT_DATA:
                return result
        return self.hooks.binary(op_type, left, right, node)

    # ----- attributes ---------------------------------------------------------------------------

    def get_attr(self, owner, name, node=None):
        if owner is UNKNOWN:
            return UNKNOWN
        if isinstance(owner, ModuleRef):
            ref = ModuleRef(f"{owner.qualname}.{name}")
            return self.importer.resolve(ref) if self.importer is not None else ref
        if isinstance(owner, Instance):
            if name in owner.attrs:
                return owner.attrs[name]
            if name in ("__dict__", "apply", "set_submodule", "load_state_dict"):
                self.taint(owner)  # may gain attributes whose names we do not see
                if name == "__dict__":
                    return UNKNOWN
            found = owner.cls.lookup(name)
            if found is None and name in ("__setattr__", "__getattr__"):
                # self.__setattr__('level_%d' % i, subtree): the builtin, bound to the instance
                return Builtin(name.strip("_"), receiver=owner)
            if isinstance(found, Function):
                if found.kind == "property":
                    return self.call_function(found, [owner], {}, node)
                if found.kind == "staticmethod":
                    return found
                if found.kind == "classmethod":
                    return BoundMethod(found, owner.cls)
                return BoundMethod(found, owner)
            if found is not None:
                return found
            return self.hooks.instance_attr(owner, name, node)
        if isinstance(owner, UserClass):
            found = owner.lookup(name)
            if found is None:
                return UNKNOWN
            if isinstance(found, Function) and found.kind == "classmethod":
                return BoundMethod(found, owner)
            return found
        if isinstance(owner, SuperProxy):
            mro = owner.receiver.cls.mro() if isinstance(owner.receiver, Instance) else []
            after = mro[mro.index(owner.cls) + 1:] if owner.cls in mro else []
            for cls in after:
                if name in cls.attrs:
                    found = cls.attrs[name]
                    return BoundMethod(found, owner.receiver) if isinstance(found, Function) else found
            return self.hooks.super_attr(owner, name)
        if isinstance(owner, (list, dict)) or isinstance(owner, str):
            return PyMethod(owner, name)
        if self.data.is_data(owner):
            result = self.data.attr(owner, name, node)
            if result is not NOT_DATA:
                return result
        return self.hooks.attr(owner, name, node)

    # ----- calls ----------------------------------------------------------------------------------

    def eval_call(self, node: cst.Call, frame: Frame):
        if self.active_globals is not self.globals:
            self.foreign_calls.add(id(node))
        func = self.eval(node.func, frame)
        args, kwargs = [], {}
        for arg in node.args:
            if arg.star == "*":
                inner = self.iterate(self.eval(arg.value, frame))
                if inner is None:
                    args = UNKNOWN
                    continue
                if args is not UNKNOWN:
                    args.extend(inner)
            elif arg.star == "**":
                inner = self.eval(arg.value, frame)
                if isinstance(inner, dict) and id(inner) not in self.opaque and kwargs is not UNKNOWN:
                    kwargs.update({k: v for k, v in inner.items() if isinstance(k, str)})
                else:
                    kwargs = UNKNOWN
            elif arg.keyword is not None:
                value = self.eval(arg.value, frame)
                if kwargs is not UNKNOWN:
                    kwargs[arg.keyword.value] = value
            else:
                value = self.eval(arg.value, frame)
                if args is not UNKNOWN:
                    args.append(value)
        if func is UNKNOWN:
            self.escape(args, kwargs)
            return UNKNOWN
        return self.call(func, args, kwargs, node, frame)

    def escape(self, args, kwargs):
        """Values passed to unknown code may be mutated by it: forget mutable containers, and
        stop assuming that an instance lacks the attributes it has not been seen to get."""
        values = (args if isinstance(args, list) else []) + (list(kwargs.values()) if isinstance(kwargs, dict) else [])
        for value in values:
            if isinstance(value, (list, dict)):
                self.record(value)
                self.make_opaque(value)
            elif isinstance(value, Instance):
                self.taint(value)

    def taint(self, instance):
        """``instance`` may have attributes set under names the analysis does not know."""
        self.tainted.add(id(instance))
        self.kept.append(instance)

    def has_attr(self, instance: Instance, name: str):
        """True / False when certain, None otherwise."""
        if name in instance.attrs:
            # A name bound on only some paths (or by a havocked loop) merges to UNKNOWN.
            return True if instance.attrs[name] is not UNKNOWN else None
        if instance.cls.lookup(name) is not None:
            return True
        if id(instance) in self.tainted or any(instance.cls.lookup(hook) is not None
                                               for hook in ("__getattr__", "__getattribute__", "__setattr__")):
            return None
        return False if self.hooks.certainly_lacks(instance, name) else None

    def call(self, func, args, kwargs, node, frame=None):
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, BoundMethod):
            if args is UNKNOWN:
                return UNKNOWN
            return self.call_function(func.func, [func.receiver] + args, kwargs, node)
        if isinstance(func, UserClass):
            return self.instantiate(func, args, kwargs, node)
        if isinstance(func, Builtin):
            if func.receiver is not None:
                args = [func.receiver] + args if args is not UNKNOWN else UNKNOWN
                if args is UNKNOWN and func.name == "setattr":
                    self.taint(func.receiver)
            return self.call_builtin(func.name, args, kwargs, node, frame)
        if isinstance(func, PyMethod):
            return self.call_pymethod(func, args, kwargs)
        if isinstance(func, ModuleRef) and func.qualname in literals.MATH and args is not UNKNOWN:
            if all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args) and not kwargs:
                try:
                    return literals.MATH[func.qualname](*args)
                except (ValueError, TypeError, OverflowError):
                    return UNKNOWN
            return UNKNOWN
        if isinstance(func, ModuleRef) and func.qualname in ("collections.OrderedDict", "typing.OrderedDict"):
            return self.call_builtin("dict", args, kwargs, node, frame)
        if isinstance(func, ModuleRef) and func.qualname == "typing.cast" and args is not UNKNOWN \
                and len(args) == 2 and not kwargs:
            return args[1]  # cast(int, v): v, unchanged
        if isinstance(func, ModuleRef) and func.qualname in ("copy.copy", "copy.deepcopy") and args \
                and args is not UNKNOWN and len(args) == 1 and not kwargs:
            return _copy_data(args[0], func.qualname == "copy.deepcopy", self.opaque)
        if isinstance(func, ModuleRef) and func.qualname == "functools.partial" and args and args is not UNKNOWN:
            return Partial(args[0], args[1:], kwargs if isinstance(kwargs, dict) else UNKNOWN)
        if isinstance(func, Partial):
            if args is UNKNOWN or func.kwargs is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            return self.call(func.func, list(func.args) + args, {**func.kwargs, **kwargs}, node, frame)
        if isinstance(func, ExternalCall):
            return func.run(args, kwargs, node)
        result = self.data.call(func, args, kwargs, node)
        if result is not NOT_DATA:
            return result
        return self.hooks.call(func, args, kwargs, node)

    def instantiate(self, cls: UserClass, args, kwargs, node):
        instance = Instance(cls)
        self.hooks.instance_created(instance, node)
        init = cls.lookup("__init__")
        if isinstance(init, Function):
            self.call_function(init, [instance] + (args if args is not UNKNOWN else []),
                               kwargs if args is not UNKNOWN else UNKNOWN, node)
        return instance

    def bind(self, func: Function, args, kwargs):
        params = func.node.params
        positional = list(params.posonly_params) + list(params.params)
        local = {}
        if args is UNKNOWN or kwargs is UNKNOWN:
            # Positional arguments still bind; a parameter they do not reach may come from the
            # unknown **mapping, so it is unknown rather than its default.
            known = args if isinstance(args, list) and len(args) <= len(positional) else []
            for i, param in enumerate(positional + list(params.kwonly_params)):
                local[param.name.value] = known[i] if i < len(known) else UNKNOWN
            if isinstance(params.star_arg, cst.Param):
                local[params.star_arg.name.value] = UNKNOWN
            if params.star_kwarg is not None:
                local[params.star_kwarg.name.value] = UNKNOWN
            return local
        kwargs = dict(kwargs)
        for i, param in enumerate(positional):
            name = param.name.value
            if i < len(args):
                local[name] = args[i]
            elif name in kwargs:
                local[name] = kwargs.pop(name)
            elif name in func.defaults:
                local[name] = func.defaults[name]
            else:
                local[name] = UNKNOWN
        extra = args[len(positional):]
        if isinstance(params.star_arg, cst.Param):
            local[params.star_arg.name.value] = tuple(extra)
        for param in params.kwonly_params:
            name = param.name.value
            if name in kwargs:
                local[name] = kwargs.pop(name)
            else:
                local[name] = func.defaults.get(name, UNKNOWN)
        if params.star_kwarg is not None:
            local[params.star_kwarg.name.value] = kwargs
        return local

    def call_function(self, func: Function, args, kwargs, node):
        # Bounded recursion: recursive builders (DLA's Tree(level - 1)) terminate on literal
        # arguments within a few levels; deeper or unknown recursion gives up.
        if self.depth >= MAX_DEPTH or sum(1 for f in self.call_stack if f.func is func) >= MAX_RECURSION:
            self.escape(args, kwargs)
            return UNKNOWN
        local = self.bind(func, args, kwargs)
        frame = Frame(local, func=func, cls=func.owner)
        self.depth += 1
        self.call_stack.append(frame)
        saved = self.active_globals, self.anchor
        if func.globals is not self.active_globals:
            if self.active_globals is self.globals:
                self.anchor = node  # this module's call into another's code
            self.active_globals = func.globals
        try:
            body = func.node.body
            if isinstance(func, Lambda):
                frame.return_values.append(self.eval(body, frame))
                frame.returned = True
            elif isinstance(body, cst.IndentedBlock):
                self.exec_block(body.body, frame)
            else:
                for small in body.body:
                    if frame.returned:
                        break
                    self.exec_small(small, frame)
        finally:
            self.call_stack.pop()
            self.depth -= 1
            self.active_globals, self.anchor = saved
        values = list(frame.return_values)
        if not frame.returned:
            values.append(None)  # some path falls off the end: it returns None
        if not values:
            return UNKNOWN  # every path raises
        result = values[0]
        for other in values[1:]:
            result = self.merge_value(result, other)
        return result

    def call_builtin(self, name, args, kwargs, node, frame):
        if name == "super":
            if frame is not None and frame.cls is not None:
                receiver = frame.locals.get("self") if "self" in frame.locals else None
                if receiver is None and frame.func is not None:
                    first = (list(frame.func.node.params.params) or [None])[0]
                    receiver = frame.locals.get(first.name.value) if first is not None else None
                if isinstance(receiver, Instance):
                    return SuperProxy(frame.cls, receiver)
            if args is not UNKNOWN and len(args) == 2 and isinstance(args[0], UserClass) and isinstance(args[1], Instance):
                return SuperProxy(args[0], args[1])
            return UNKNOWN
        if args is UNKNOWN or kwargs is UNKNOWN:
            return UNKNOWN
        if name == "setattr" and len(args) == 3 and isinstance(args[1], str):
            self.set_attr(args[0], args[1], args[2])
            return None
        if name == "setattr" and len(args) == 3 and isinstance(args[0], Instance):
            self.taint(args[0])  # an attribute with a name we cannot tell
            return None
        if name == "getattr" and len(args) in (2, 3) and isinstance(args[1], str):
            value = self.get_attr(args[0], args[1], node)
            if value is UNKNOWN and len(args) == 3 and isinstance(args[0], Instance) \
                    and self.has_attr(args[0], args[1]) is False:
                return args[2]
            return value
        if name == "hasattr" and len(args) == 2 and isinstance(args[0], Instance) and isinstance(args[1], str):
            verdict = self.has_attr(args[0], args[1])
            return UNKNOWN if verdict is None else verdict
        if name == "print":
            return None
        if name == "isinstance" and len(args) == 2 and not kwargs:
            return _isinstance(args[0], args[1])
        if name in ("isinstance", "issubclass", "type", "id", "iter", "next", "map", "set"):
            return UNKNOWN
        if name in ("len",) and len(args) == 1:
            items = self.iterate(args[0])
            if items is None:
                length = self.data.length(args[0])
                return self.hooks.length(args[0]) if length is NOT_DATA else length
            return len(items)
        if name in ("list", "tuple", "sorted", "reversed") and len(args) <= 1:
            if not args:
                return [] if name == "list" else ()
            items = self.iterate(args[0])
            if items is None:
                return UNKNOWN
            if name == "sorted":
                if not literals.is_plain(items):
                    return UNKNOWN
                try:
                    items = sorted(items)
                except TypeError:
                    return UNKNOWN
            if name == "reversed":
                items = list(reversed(items))
            return tuple(items) if name == "tuple" else items
        if name == "dict":
            result = {}
            if args:
                source = args[0]
                if isinstance(source, dict) and id(source) not in self.opaque:
                    result.update(source)
                else:
                    items = self.iterate(source)
                    if items is None:
                        return UNKNOWN
                    for item in items:
                        if not isinstance(item, (tuple, list)) or len(item) != 2 or not literals.is_plain(item[0]):
                            return UNKNOWN
                        result[item[0]] = item[1]
            result.update(kwargs)
            return result
        if name == "range":
            if all(isinstance(a, int) and not isinstance(a, bool) for a in args) and 1 <= len(args) <= 3:
                try:
                    r = range(*args)
                except ValueError:
                    return UNKNOWN
                return list(r) if len(r) <= MAX_UNROLL else LongRange(r)
            return UNKNOWN
        if name == "enumerate" and args:
            items = self.iterate(args[0])
            start = args[1] if len(args) > 1 else kwargs.get("start", 0)
            if items is None and isinstance(start, int):
                wrapped = self.data.enumerate(args[0], start)
                return UNKNOWN if wrapped is NOT_DATA else wrapped
            if items is None or not isinstance(start, int):
                return UNKNOWN
            return [(start + i, v) for i, v in enumerate(items)]
        if name == "zip":
            lists = [self.iterate(a) for a in args]
            if any(items is None for items in lists):
                return UNKNOWN
            return [tuple(group) for group in zip(*lists)]
        if name in ("int", "float", "bool", "str", "abs", "round") and len(args) >= 1:
            value = args[0]
            if name == "str" or not literals.is_plain(value):
                return UNKNOWN
            try:
                return {"int": int, "float": float, "bool": bool, "abs": abs, "round": round}[name](*args)
            except (ValueError, TypeError, OverflowError):
                return UNKNOWN
        if name in ("min", "max", "sum", "any", "all", "divmod"):
            values = args
            if len(args) == 1:
                values = self.iterate(args[0])
                if values is None:
                    return UNKNOWN
            if name == "sum" and len(args) == 2:
                values = self.iterate(args[0])
                if values is None:
                    return UNKNOWN
                total = args[1]
                for v in values:
                    total = self.binary(cst.Add, total, v, node)
                return total
            if not literals.is_plain(list(values)):
                if name == "sum":
                    total = 0
                    for v in values:
                        total = self.binary(cst.Add, total, v, node)
                    return total
                return UNKNOWN
            try:
                return {"min": min, "max": max, "sum": sum, "any": any, "all": all, "divmod": divmod}[name](*values) \
                    if name == "divmod" else {"min": min, "max": max, "sum": sum, "any": any, "all": all}[name](values)
            except (ValueError, TypeError):
                return UNKNOWN
        return UNKNOWN

    def call_pymethod(self, method: PyMethod, args, kwargs):
        receiver, name = method.receiver, method.name
        if args is UNKNOWN or kwargs is UNKNOWN:
            if isinstance(receiver, (list, dict)):
                self.record(receiver)
                self.make_opaque(receiver)
            return UNKNOWN
        if isinstance(receiver, list):
            if name in ("append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort"):
                self.record(receiver)
            if name == "append" and len(args) == 1:
                receiver.append(args[0])
                return None
            if name == "extend" and len(args) == 1:
                items = self.iterate(args[0])
                if items is None:
                    self.make_opaque(receiver)
                else:
                    receiver.extend(items)
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                receiver.insert(args[0], args[1])
                return None
            if name == "pop" and receiver and (not args or isinstance(args[0], int)):
                try:
                    return receiver.pop(*args)
                except IndexError:
                    return UNKNOWN
            if name == "copy":
                return list(receiver)
            if name == "index" and literals.is_plain(receiver) and len(args) == 1:
                try:
                    return receiver.index(args[0])
                except ValueError:
                    return UNKNOWN
            if name in ("append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort"):
                self.make_opaque(receiver)
            return UNKNOWN
        if isinstance(receiver, dict):
            if name == "get" and args and literals.is_plain(args[0]) and id(receiver) not in self.opaque:
                try:
                    return receiver.get(args[0], args[1] if len(args) > 1 else None)
                except TypeError:
                    return UNKNOWN
            if name in ("items", "keys", "values") and id(receiver) not in self.opaque:
                return list(getattr(receiver, name)())
            if name == "update" and len(args) == 1 and isinstance(args[0], dict):
                self.record(receiver)
                receiver.update(args[0])
                receiver.update(kwargs)
                return None
            if name in ("pop", "setdefault") and 1 <= len(args) <= 2 and not kwargs \
                    and literals.is_plain(args[0]) and id(receiver) not in self.opaque:
                self.record(receiver)
                try:
                    return getattr(receiver, name)(*args)
                except (KeyError, TypeError):
                    self.make_opaque(receiver)
                    return UNKNOWN
            if name in ("setdefault", "update", "pop", "clear", "popitem"):
                self.record(receiver)
                self.make_opaque(receiver)
            if name == "copy":
                return dict(receiver)
            return UNKNOWN
        if isinstance(receiver, str):
            if name in ("lower", "upper", "strip") and not args:
                return getattr(receiver, name)()
            if name in ("startswith", "endswith") and len(args) == 1 and isinstance(args[0], (str, tuple)):
                return getattr(receiver, name)(args[0])
        return UNKNOWN


def _copy_data(value, deep: bool, opaque: set, depth: int = 0):
    """``copy.copy`` / ``copy.deepcopy`` of plain data (numbers, strings, lists, tuples, dicts of
    them: block configurations).  Anything else (layers, tensors, instances), a container whose
    contents are not all known (``opaque``), or nesting deeper than 32 (a list that holds itself),
    cannot be copied here and makes the result UNKNOWN."""
    if value is None or value is UNKNOWN or isinstance(value, (bool, int, float, str)):
        return value
    if not isinstance(value, (dict, list, tuple)) or id(value) in opaque or depth > 32:
        return UNKNOWN
    items = value.items() if isinstance(value, dict) else enumerate(value)
    copied = {k: _copy_data(v, deep, opaque, depth + 1) if deep else v for k, v in items}
    if any(v is UNKNOWN and (value[k] is not UNKNOWN) for k, v in copied.items()):
        return UNKNOWN  # an element deepcopy cannot reproduce
    if isinstance(value, dict):
        return copied
    return list(copied.values()) if isinstance(value, list) else tuple(copied.values())


# The plain value types an ``isinstance`` test can be decided for, by the name the code spells.
PLAIN_TYPES = {"int": (int,), "float": (float,), "bool": (bool,), "str": (str,), "list": (list,),
               "tuple": (tuple,), "dict": (dict,)}
ABSTRACT_TYPES = {"Sequence": (list, tuple, str), "Iterable": (list, tuple, str, dict),
                  "Mapping": (dict,), "MutableMapping": (dict,), "MutableSequence": (list,)}


def _isinstance(value, kinds):
    """``isinstance`` of a plain value (a number, string, list, tuple, dict or None) against builtin
    types and ``collections.abc``/``typing`` sequences; of a user instance against user classes.
    UNKNOWN otherwise."""
    kinds = list(kinds) if isinstance(kinds, tuple) else [kinds]
    answers = []
    for kind in kinds:
        if isinstance(kind, Builtin) and kind.receiver is None and kind.name in PLAIN_TYPES:
            types = PLAIN_TYPES[kind.name]
        elif isinstance(kind, ModuleRef) and kind.qualname.rsplit(".", 1)[0] in ("collections.abc", "typing") \
                and kind.qualname.rsplit(".", 1)[1] in ABSTRACT_TYPES:
            types = ABSTRACT_TYPES[kind.qualname.rsplit(".", 1)[1]]
        elif isinstance(kind, UserClass) and isinstance(value, Instance):
            if kind in value.cls.mro():
                return True
            if value.cls.external_bases() or kind.external_bases():
                return UNKNOWN  # a framework base may relate them
            answers.append(False)
            continue
        else:
            return UNKNOWN
        if value is None or isinstance(value, (bool, int, float, str, list, tuple, dict)):
            if isinstance(value, types):
                return True
            answers.append(False)
            continue
        return UNKNOWN
    return False if answers else UNKNOWN


class Partial:
    def __init__(self, func, args, kwargs):
        self.func = func
        self.args = list(args)
        self.kwargs = kwargs


CAUGHT_SHAPE_ERRORS = {"Exception", "BaseException", "RuntimeError", "ValueError", "IndexError", "TypeError"}


def _catches_shape_errors(handler: cst.ExceptHandler) -> bool:
    """Would this handler catch what torch raises for a shape error (RuntimeError, ValueError, ...)?"""
    kind = handler.type
    if kind is None:
        return True
    kinds = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    for k in kinds:
        name = k.attr.value if isinstance(k, cst.Attribute) else (k.value if isinstance(k, cst.Name) else None)
        if name is None or name in CAUGHT_SHAPE_ERRORS:
            return True
    return False


def _has_jump(body) -> bool:
    """break/continue directly in this loop body (not in nested loops or functions)."""
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Break(self, node):
            nonlocal found
            found = True

        def visit_Continue(self, node):
            nonlocal found
            found = True

        def visit_For(self, node):
            return False

        def visit_While(self, node):
            return False

        def visit_FunctionDef(self, node):
            return False

    body.visit(Finder())
    return found

"""Which input sizes does a model accept?  Exact bounded search over its symbolic graph.

A model analysed without a concrete input carries symbols (``H``, ``W``) through every
floor/ceil formula.  Each recorded application then constrains those symbols:

* a node whose inputs mention one symbol is checked for every candidate size, by evaluating
  its input expressions (compiled to Python) and re-running the op's own ``check``;
* a node whose inputs mention several symbols (a Linear after a flatten over H and W) must
  declare what it needs through ``OpSpec.requirement`` — "dim i must equal n", or "the element
  count must equal n" — and the product is solved by enumerating divisors.

Anything else coupled stays unsolved and the answer for those symbols is ``None`` (unknown):
the search never guesses.  Batch (the symbol ``N``) is fixed to 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shapelint.shapes.dims import Expr
from shapelint.shapes.ops import OpSpec

BOUND = 4096
BATCH = "N"


@dataclass
class Solution:
    symbols: list  # spatial symbols, in input order
    accepted: dict  # symbol -> sorted list of accepted sizes, or None when unknown
    unsatisfiable: list = field(default_factory=list)  # nodes no size in 1..BOUND satisfies


def _source(value) -> str:
    if not isinstance(value, Expr):
        return repr(value)
    if value.op == "sym":
        return value.name
    a, b = _source(value.left), _source(value.right)
    if value.op == "ceil":
        return f"(-(-({a}) // ({b})))"
    return f"(({a}) {value.op} ({b}))"


_COMPILED: dict = {}


def _compile(value, names: tuple):
    key = (_source(value), names)
    if key not in _COMPILED:
        if len(_COMPILED) > 4096:
            _COMPILED.clear()
        _COMPILED[key] = eval(f"lambda {', '.join(names)}: {key[0]}")  # noqa: S307 - our own arithmetic only
    return _COMPILED[key]


def _symbols_of(values) -> set:
    found = set()
    for value in values:
        if isinstance(value, Expr):
            found |= value.symbols()
        elif isinstance(value, (tuple, list)):
            found |= _symbols_of(value)
    return found


def substitute(value, env):
    if isinstance(value, Expr):
        try:
            return value.evaluate(env)
        except (ZeroDivisionError, KeyError):
            return None
    if isinstance(value, tuple):
        return tuple(substitute(v, env) for v in value)
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    return value


def merge_always_fits(shapes) -> bool:
    if any(shape is None for shape in shapes):
        return True  # a merge's check never fires on an unknown operand (Elementwise, Concat)
    rank = max(len(shape) for shape in shapes)
    for i in range(1, rank + 1):
        column = {shape[-i] for shape in shapes if len(shape) >= i}
        column.discard(1)
        column.discard(None)  # an unknown size never makes a check fire
        if len(column) > 1:
            return False
    return True


def _loses_sizes(model) -> bool:
    """True when some op received a dim the analysis could not express (None)."""
    for node in model.nodes:
        if node.speculative or not node.inputs:
            continue
        for shape in node.inputs:
            # An unknown batch (TensorFlow's None, first axis) is no lost size.
            if shape is None or any(d is None for d in shape[1:]):
                return True
    return False


def dims_of(node):
    for shape in node.inputs:
        for d in shape or ():
            if isinstance(d, Expr):
                yield d
    for value in node.params.values():
        for d in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(d, Expr):
                yield d


def _survivors(node, symbol, sizes) -> set:
    """The sizes of ``symbol`` for which the node's own check raises nothing."""
    if type(node.op).check is OpSpec.check:
        return set(sizes)  # an op without checks accepts every size
    if node.op.monotone(node.params):
        # Only a collapse depends on the size, and outputs grow with inputs: bisect for the
        # smallest size that passes.
        ordered = sorted(sizes)
        low, high = 0, len(ordered)
        while low < high:
            middle = (low + high) // 2
            if _fatal(node, {symbol: ordered[middle], BATCH: 1}):
                low = middle + 1
            else:
                high = middle
        return set(ordered[low:])
    names = (symbol, BATCH)
    compiled = []
    for shape in node.inputs:
        compiled.append(None if shape is None else tuple(
            _compile(d, names) if isinstance(d, Expr) and symbol in d.symbols() else
            (None if isinstance(d, Expr) and d.symbols() - {BATCH} else d) for d in shape))
    seen: dict = {}
    survivors = set()
    for size in sorted(sizes):
        inputs = []
        for shape in compiled:
            if shape is None:
                inputs.append(None)
                continue
            row = []
            for d in shape:
                if callable(d):
                    try:
                        row.append(d(size, 1))
                    except ZeroDivisionError:
                        row.append(None)
                elif isinstance(d, Expr):  # the batch symbol alone
                    row.append(1)
                else:
                    row.append(d)
            inputs.append(tuple(row))
        key = tuple(inputs)
        if key not in seen:
            params = {k: substitute(v, {symbol: size, BATCH: 1}) for k, v in node.params.items()}
            seen[key] = any(p.fatal for p in node.op.check(params, inputs))
        if not seen[key]:
            survivors.add(size)
    return survivors


def _fatal(node, env) -> bool:
    inputs = [substitute(shape, env) for shape in node.inputs]
    params = {k: substitute(v, env) for k, v in node.params.items()}
    problems = node.op.check(params, inputs)
    return any(p.fatal for p in problems)


def _factors(value):
    """Split a product expression into (constant, [single-symbol factors]) or None."""
    if isinstance(value, int):
        return value, []
    if isinstance(value, Expr) and value.op == "*":
        left, right = _factors(value.left), _factors(value.right)
        if left is None or right is None:
            return None
        return left[0] * right[0], left[1] + right[1]
    if isinstance(value, Expr) and len(value.symbols()) == 1:
        return 1, [value]
    return None


def free_sizes(model) -> list:
    """The input sizes to solve for, in input order: the symbols of a symbolic input, and every
    size the model's code declares None (``keras.Input((None, None, 3))``), wherever it is
    declared (a functional model built by a script has no single input)."""
    found = []
    if model.input_source == "symbolic":
        found = [d.name for d in model.input or () if isinstance(d, Expr) and d.op == "sym" and d.name != BATCH]
    declared = []
    for d in model.input or ():
        if isinstance(d, Expr) and d.op == "sym" and d.declared_none:
            declared.append(d.name)
    for node in model.nodes:
        if node.speculative:
            continue
        for shape in node.inputs:
            for d in shape or ():
                if isinstance(d, Expr):
                    declared.extend(sorted(d.declared_symbols()))
    for name in declared:
        if name not in found:
            found.append(name)
    return found


def solve(model, bound: int = BOUND) -> Solution | None:
    symbols = free_sizes(model)
    if not symbols:
        return None
    candidates = {s: set(range(1, bound + 1)) for s in symbols}
    unsatisfiable, coupled = [], []
    for node in model.nodes:
        if node.speculative or not node.inputs or node.problems:
            continue
        involved = (_symbols_of(node.inputs) | _symbols_of(node.params.values())) - {BATCH}
        if not involved or not involved <= set(candidates):
            continue
        if type(node.op).check is OpSpec.check and type(node.op).requirement is OpSpec.requirement:
            continue  # an op without checks accepts every size
        if not node.op.checks_sizes(node.params) and node.op.requirement(node.params, node.inputs) is None:
            continue
        if getattr(node.op, "merges", False) and merge_always_fits(node.inputs):
            continue  # every axis pairs one size with itself or with 1: holds at every size
        declared = node.op.requirement(node.params, node.inputs)
        mixes = isinstance(declared[1], Expr) and len(declared[1].symbols() - {BATCH}) > 1 if declared else False
        if mixes or any(len(d.symbols() - {BATCH}) > 1 for d in dims_of(node)):
            coupled.append((node, involved))
            continue
        # Every dim depends on one symbol at most: checks are per axis, so each symbol is
        # scanned alone with the others unknown (an unknown dim never makes a check fire).
        for symbol in sorted(involved):
            if not candidates[symbol]:
                continue
            survivors = _survivors(node, symbol, candidates[symbol])
            if not survivors:
                unsatisfiable.append(node)  # this node rejects every size the earlier ones allowed
            candidates[symbol] = survivors
    unsolved = set()
    if _loses_sizes(model):
        unsolved |= set(symbols)  # a size became unknown on the way: no claim about what runs
    for node, involved in coupled:
        if any(not candidates[s] for s in involved):
            continue
        result = _solve_coupled(node, involved, candidates)
        if result is None:
            unsolved |= involved
            continue
        if not all(result.values()):
            unsatisfiable.append(node)
            for symbol in involved:
                candidates[symbol] = set()
            continue
        # The exact answer above only decides satisfiability.  What is shown per dim assumes the
        # coupled dims are equal (square inputs): an 16 px height is no answer when it runs only
        # with a 112 px width.
        square = _square_sizes(node, involved, candidates)
        for symbol, values in result.items():
            candidates[symbol] = candidates[symbol] & values & square if square is not None else set()
            if square is None:
                unsolved.add(symbol)
    return Solution(symbols, {s: (None if s in unsolved else sorted(candidates[s])) for s in symbols},
                    unsatisfiable)


def _requirement(node, involved, candidates):
    """(kind, expression, n): what a node needs of a value that mixes several symbols.

    Ops say so through ``OpSpec.requirement``; otherwise the op's own check is asked: a
    wrong value for the one mixed dim makes it name the value it expects
    (``Problem.data["expected"]``), accepted only if that value then passes the same check.
    """
    declared = node.op.requirement(node.params, node.inputs)
    if declared is not None:
        kind, value, target = declared
        if isinstance(target, Expr) and target.symbols() <= {BATCH}:
            target = target.evaluate({BATCH: 1})
        return (kind, value, target) if isinstance(target, int) and target > 0 else None
    shape = node.inputs[0]
    if shape is None:
        return None
    mixed = [i for i, d in enumerate(shape) if isinstance(d, Expr) and len(d.symbols() - {BATCH}) > 1]
    if len(mixed) != 1:
        return None
    index = mixed[0]
    env = {s: min(candidates[s]) for s in involved}
    env[BATCH] = 1

    def check_with(value):
        inputs = [substitute(x, env) for x in node.inputs]
        inputs[0] = tuple(value if i == index else d for i, d in enumerate(inputs[0]))
        params = {k: substitute(v, env) for k, v in node.params.items()}
        return [p for p in node.op.check(params, inputs) if p.fatal]

    sentinel = 1_000_003  # a prime no layer expects
    problems = check_with(sentinel)
    expected = problems[0].data.get("expected") if len(problems) == 1 else None
    if not isinstance(expected, int) or isinstance(expected, bool) or check_with(expected):
        return None
    return "equals", shape[index], expected


def _solve_coupled(node, involved, candidates):
    """Accepted sizes per symbol for "product of single-symbol factors == n" (or "divisible by
    n"); None when the requirement is not of that form."""
    need = _requirement(node, involved, candidates)
    if need is None:
        return None
    kind, value, target = need
    split = _factors(value)
    if split is None:
        return None
    constant, factors = split
    by_symbol: dict = {}
    for factor in factors:
        symbols = factor.symbols()
        if symbols == {BATCH}:
            constant *= _compile(factor, (BATCH,))(1)
            continue
        (symbol,) = symbols
        by_symbol.setdefault(symbol, []).append(factor)
    if not set(by_symbol) <= set(involved) or constant <= 0:
        return None
    if not by_symbol:  # the value does not depend on the input size after all
        holds = constant == target if kind == "equals" else constant % target == 0
        return {s: set(candidates[s]) if holds else set() for s in involved}
    # For each symbol: the product of its factors at each candidate size.
    tables = {}
    for symbol, parts in by_symbol.items():
        funcs = [_compile(p, (symbol,)) for p in parts]
        table: dict = {}
        for size in candidates[symbol]:
            product = 1
            try:
                for func in funcs:
                    product *= func(size)
            except ZeroDivisionError:
                continue
            table.setdefault(product, set()).add(size)
        tables[symbol] = table
    accepted = {s: set() for s in involved}
    order = list(tables)
    if kind == "equals":
        if target % constant:
            return accepted
        goal = target // constant
        fits = lambda rest, product: product > 0 and rest % product == 0  # noqa: E731
        step = lambda rest, product: rest // product  # noqa: E731
    else:  # divisible: constant * product % target == 0
        goal = target // math.gcd(target, constant)
        fits = lambda rest, product: product > 0  # noqa: E731
        step = lambda rest, product: rest // math.gcd(rest, product)  # noqa: E731

    last_matches: dict = {}

    def matches_at_last(rest):
        """Sizes of the last symbol whose product completes the requirement (memoised by rest)."""
        if rest not in last_matches:
            table = tables[order[-1]]
            if kind == "equals":
                last_matches[rest] = table.get(rest, set())
            else:
                last_matches[rest] = set().union(*(sizes for product, sizes in table.items()
                                                   if product > 0 and product % rest == 0))
        return last_matches[rest]

    def search(i, rest, chosen):
        if i == len(order) - 1:
            sizes = matches_at_last(rest)
            if sizes:
                for symbol, size_set in chosen + [(order[i], sizes)]:
                    accepted[symbol] |= size_set
            return
        for product, sizes in tables[order[i]].items():
            if fits(rest, product):
                search(i + 1, step(rest, product), chosen + [(order[i], sizes)])

    if order:
        search(0, goal, [])
    for symbol in involved - set(by_symbol):
        accepted[symbol] = set(candidates[symbol]) if any(accepted.values()) else set()
    return accepted


def _square_sizes(node, involved, candidates):
    """Sizes v for which the node's requirement holds with every involved symbol equal to v."""
    need = _requirement(node, involved, candidates)
    if need is None:
        return None
    kind, value, target = need
    names = tuple(sorted(involved)) + (BATCH,)
    func = _compile(value, names) if isinstance(value, Expr) else (lambda *args: value)
    common = set.intersection(*(candidates[s] for s in involved))
    sizes = set()
    for size in common:
        try:
            got = func(*([size] * len(involved)), 1)
        except ZeroDivisionError:
            continue
        if (got == target) if kind == "equals" else (got > 0 and got % target == 0):
            sizes.add(size)
    return sizes


def accepts_json(values) -> object:
    """The ``accepts`` entry for one dim: null (any / unknown), a short list, or a {min, max} range."""
    if values is None:
        return None
    if len(values) <= 16:
        return list(values)
    low, high = values[0], values[-1]
    bounds = {"min": low} if high == BOUND else {"min": low, "max": high}
    if high - low + 1 != len(values):
        bounds["gaps"] = True  # not every size between the bounds is accepted
    return bounds


def describe_accepted(values) -> str:
    if values is None:
        return "unknown"
    if not values:
        return "none"
    shown = accepts_json(values)
    if isinstance(shown, list):
        return ", ".join(map(str, shown))
    text = f"{shown['min']}.." + (str(shown["max"]) if "max" in shown else "")
    return text + (" (with gaps)" if shown.get("gaps") else "")


def accepts_for(model) -> list | None:
    """The JSON ``accepts`` list aligned with the model's input, or None without symbols."""
    solution = getattr(model, "solution", None) or solve(model)
    model.solution = solution
    if solution is None:
        return None
    out = []
    for d in model.input:
        if isinstance(d, Expr) and d.op == "sym" and d.name in solution.accepted:
            out.append(accepts_json(solution.accepted[d.name]))
        else:
            out.append(None)
    return out

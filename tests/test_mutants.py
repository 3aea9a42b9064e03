"""CI-sized mutation study (``bench/mutants.py``): shapelint against real torch on mutated fixtures.

A deterministic sample of 250 mutants (seed 0) of the clean ``fixtures/torch/ok_*.py`` scripts
(and 120 each of the Keras and tf.nn ones, at the end):
one subprocess imports torch once, runs every original (recording each layer's inputs, which size
the kernel / dilation / stride / groups edits) and then every mutant as ``__main__``; the test
lints each mutant and compares.  Ground truth is whatever torch does, never a stored answer.

Measured at the time of writing (torch 2.13 CPU): 250 mutants, 186 raise, 182 reported, all of
them raising: precision 100%, recall 97.8% (the full study, ``python bench/mutants.py``: 1338
mutants, precision 100%, recall 98.3%).  About 12 s on a quiet 2-core machine.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE, SEED = 250, 0
RECALL_FLOOR = 0.95  # measured 0.978 (182 / 186) on this sample
REPAIRED_FLOOR = 28  # raising mutants that run after check --fix --unsafe-fixes; measured 32 of 193


def _bench():
    spec = importlib.util.spec_from_file_location("shapelint_bench_mutants", ROOT / "bench" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


@pytest.fixture(scope="module")
def study(bench) -> dict:
    return bench.study("torch", limit=SAMPLE, seed=SEED, timeout=30)


def test_originals_run_clean_and_lint_clean(study):
    originals = study["originals"]
    assert len(originals) == len(list((ROOT / "fixtures" / "torch").glob("ok_*.py")))
    bad = [(o["file"], o["error"], o["findings"]) for o in originals if o["error"] or o["findings"]]
    assert not bad


def test_sample_is_substantial(study, bench):
    mutants = bench.scored(study["mutants"])
    assert len(study["mutants"]) == SAMPLE
    assert len(mutants) >= SAMPLE - 5, "too many mutants timed out"
    ops = Counter(m["op"] for m in mutants)
    # every operator family is exercised, and enough mutants run clean for precision to mean something
    for op in ("conv_in", "conv_out", "linear_in", "kernel_collapse", "dilation_collapse", "stride_big",
               "padding_swap", "groups_break", "groups_fit"):
        assert ops[op] >= 3, (op, ops)
    assert sum(1 for m in mutants if not m["error"]) >= 40
    assert sum(1 for m in mutants if m["error"]) >= 120


def test_precision_is_total(study, bench):
    """Every error finding on a mutant is a real torch failure: no false positive."""
    mutants = bench.scored(study["mutants"])
    false_positives = [bench.describe(m) for m in mutants if m["findings"] and not m["error"]]
    assert not false_positives, "\n".join(false_positives)


def test_recall_floor(study, bench):
    mutants = bench.scored(study["mutants"])
    s = bench.score(mutants)
    misses = [bench.describe(m) for m in mutants if m["error"] and not m["findings"]]
    assert s["recall"] >= RECALL_FLOOR, f"recall {s['recall']:.3f} < {RECALL_FLOOR}\n" + "\n".join(misses)


def test_fixes_repair_and_never_break(study, bench):
    """``check --fix --unsafe-fixes`` over the sample, each repaired mutant run again in torch: no
    mutant that ran clean is touched (so none is broken), every raising mutant a fix touched runs
    afterwards, and the repairs reach a floor.  Most raising mutants have no fix by design: a
    kernel that collapses the input or a ``groups`` that does not divide has no one meaning, and
    a size computed from constructor parameters (``in_ch + 1``) is not rewritten."""
    bench.repair(study, timeout=30)
    mutants = bench.scored(study["mutants"])
    s = bench.repair_score(mutants)
    touched = [bench.describe(m) + f" fixes: {m['fixes']}" for m in mutants if not m["error"] and m["fixes"]]
    assert s["touched"] == 0, "\n".join(touched)
    failing = [bench.describe(m) + f" fixes: {m['fixes']} after: {m['fixed_error']}"
               for m in mutants if m["error"] and m["fixes"] and m["fixed_error"]]
    assert not failing, "\n".join(failing)
    assert s["runs"] >= REPAIRED_FLOOR, s


# ----- Keras and tf.nn: smaller samples, the same two promises ----------------------------------

OTHER = {"keras": (120, 0.90), "tf": (120, 0.90)}  # sample size, recall floor (see the measured figures below)


@pytest.fixture(scope="module", params=sorted(OTHER))
def other_study(request, bench) -> tuple:
    framework = request.param
    return framework, bench.study(framework, limit=OTHER[framework][0], seed=SEED, timeout=60)


def test_other_frameworks_precision_is_total(other_study, bench):
    """No error finding on a Keras / tf.nn mutant that runs clean, except on code the script never
    runs (a model function nobody calls: the runtime cannot see that bug, shapelint can)."""
    framework, result = other_study
    mutants = bench.scored(result["mutants"])
    assert len(mutants) >= OTHER[framework][0] - 5, "too many mutants timed out"
    false_positives = [bench.describe(m) for m in mutants if m["findings"] and not m["error"] and m["ran"]]
    assert not false_positives, "\n".join(false_positives)


def test_other_frameworks_recall_floor(other_study, bench):
    """Recall over the mutants that fail whatever the unknown sizes are: a tf.nn mutant that runs
    clean when its unknown (batch, or declared None) sizes are fed another value (a ``[-1, 128]``
    reshape of 144 values per example runs for a batch of 8) is a bug of the feed, not one the
    model has for every input, and is left out (the bench prints both figures).  Measured when
    written (seed 0, 120 each): Keras 49 of 52 (the 3 misses break only the size a None-input
    model is fed), tf.nn 50 of 52 (all raising: 50 of 60)."""
    framework, result = other_study
    mutants = bench.scored(result["mutants"])
    raising = [m for m in mutants if m["error"] and not m["error"].get("batch_dependent")]
    assert len(raising) >= 30, f"{framework}: only {len(raising)} raising mutants"
    reported = sum(1 for m in raising if m["findings"])
    misses = [bench.describe(m) for m in raising if not m["findings"]]
    assert reported / len(raising) >= OTHER[framework][1], (
        f"{framework} recall {reported}/{len(raising)}\n" + "\n".join(misses))

"""benchmarks/eval.py: grouping of recordings and trec_eval-style (linear gain) nDCG from ranx."""

import importlib.util
import math
import sys
from pathlib import Path

import pytest

numba_config = pytest.importorskip("numba.core.config")
# ranx's metrics run as plain Python here (numba's DISABLE_JIT, read as ranx is imported and as its typed dicts are
# made): on these few judgments compiling them took 20 to 60 s of the run, for the same sums. benchmarks/eval.py run
# as a script still compiles them.
_jit, numba_config.DISABLE_JIT = numba_config.DISABLE_JIT, True
try:
    pytest.importorskip("ranx")
    _spec = importlib.util.spec_from_file_location("talksearch_eval", Path(__file__).parents[1] / "benchmarks" / "eval.py")
    ev = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(ev)
finally:
    numba_config.DISABLE_JIT = _jit


@pytest.fixture(autouse=True)
def _without_jit(monkeypatch):
    monkeypatch.setattr(numba_config, "DISABLE_JIT", True)

DEV = ev.DevSet(queries={"q": ("text", "keyword")}, judged={"q": {"a1": 1, "a2": 2, "b": 1, "c": 2}},
                groups={"a1": "a1", "a2": "a1"})


def test_recordings_share_the_best_grade_and_count_once():
    assert DEV.grouped(DEV.judged["q"]) == {"a1": 2, "b": 1, "c": 2}
    assert DEV.grouped(DEV.judged["q"], leave_out="a1") == {"b": 1, "c": 2}
    assert DEV.top(["a2", "x", "a1", "b"], k=3) == ["a1", "x", "b"]


def test_ndcg_uses_linear_gains():
    scores = ev.score({"q": DEV.grouped(DEV.judged["q"])}, {"q": ["b", "x", "a1"]}, ["ndcg@10", "mrr@10"])
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    ideal = 2 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert scores["ndcg@10"]["q"] == pytest.approx(dcg / ideal)
    assert scores["mrr@10"]["q"] == 1.0


def test_empty_ranking_scores_zero():
    scores = ev.score({"q": {"a": 1}, "r": {"b": 1}}, {"q": ["a"], "r": []}, ["ndcg@10"])
    assert scores["ndcg@10"] == {"q": 1.0, "r": 0.0}

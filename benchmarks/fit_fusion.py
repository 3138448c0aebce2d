"""Fit the learned fusion weights on one SQuAD set and report R@1/5/20 of every fusion on all given sets.

    python benchmarks/fit_fusion.py ../shared/data/cmrc2018_dev.json ../shared/data/drcd_test.json \
        --train cmrc2018_dev --cache /tmp/fusion-cache
"""

from __future__ import annotations

import argparse
import logging
import pickle
import time
from pathlib import Path

import numpy as np

from bot.bm25 import BM25Index, top_k
from bot.config import Config
from bot.embed import Embedder
from bot.evaluate import load_squad
from bot.fusion import FEATURES, LEARNED_WEIGHTS, Candidates, candidate_features, create_fusion
from bot.store import build_index

logger = logging.getLogger("fit_fusion")


def cached_run(path: Path, backend: str, cache: Path) -> dict:
    """Passages, BM25 terms, passage and question vectors of one data set (built once, then cached)."""
    file = cache / f"{path.stem}.{backend}.pkl"
    if file.is_file():
        return pickle.loads(file.read_bytes())
    eval_set = load_squad(path)
    embedder = Embedder(backend=backend)
    started = time.perf_counter()
    data = build_index(Config(), eval_set.articles, embedder)
    run = {"passages": data.passages, "tokens": data.tokens, "build_s": time.perf_counter() - started,
           "vecs": data.dense.vectors(np.arange(len(data.passages))),
           "qv": embedder.encode([q.text for q in eval_set.questions]), "questions": eval_set.questions}
    cache.mkdir(parents=True, exist_ok=True)
    file.write_bytes(pickle.dumps(run))
    return run


def candidate_lists(run: dict, depth: int) -> list[tuple[Candidates, np.ndarray]]:
    """Each question's candidates (BM25 top-depth ∪ dense top-depth) and which come from its paragraph."""
    bm25 = BM25Index.build(run["tokens"])
    from bot.tokenize import tokenize

    owners = np.array([p.article_id for p in run["passages"]])
    out = []
    for question, qv in zip(run["questions"], run["qv"], strict=True):
        scores = bm25.scores(tokenize(question.text))
        dense_all = run["vecs"] @ qv
        dense_top = np.argpartition(-dense_all, depth)[:depth]
        rows = np.unique(np.concatenate([top_k(scores, depth), dense_top]))
        texts = [run["passages"][i].text for i in rows]
        out.append((Candidates(question.text, texts, scores[rows], dense_all[rows]), owners[rows] == question.article_id))
    return out


def recalls(scored: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """R@1/5/20 and MRR@10 from (scores, labels) per question."""
    ranks = []
    for scores, labels in scored:
        order = np.argsort(-scores, kind="stable")
        hit = np.flatnonzero(labels[order])
        ranks.append(hit[0] + 1 if len(hit) else 10**9)
    ranks = np.array(ranks)
    return {"R@1": (ranks <= 1).mean(), "R@5": (ranks <= 5).mean(), "R@20": (ranks <= 20).mean(),
            "MRR@10": np.where(ranks <= 10, 1 / ranks, 0).mean()}


def fit(features: list[np.ndarray], labels: list[np.ndarray], steps: int = 1500, l2: float = 1e-4) -> np.ndarray:
    """Listwise softmax regression: maximise the probability mass on each question's own-paragraph passages."""
    keep = [i for i, y in enumerate(labels) if y.any()]
    width = max(len(features[i]) for i in keep)
    x = np.zeros((len(keep), width, len(FEATURES)), dtype=np.float64)
    y = np.zeros((len(keep), width))
    valid = np.zeros((len(keep), width), dtype=bool)
    for row, i in enumerate(keep):
        n = len(features[i])
        x[row, :n], y[row, :n], valid[row, :n] = features[i], labels[i], True
    weights = np.zeros(len(FEATURES))
    moment, second = np.zeros_like(weights), np.zeros_like(weights)
    for step in range(1, steps + 1):
        logits = np.where(valid, x @ weights, -np.inf)
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        q = np.where(y > 0, p, 0)
        q /= q.sum(1, keepdims=True)
        grad = np.einsum("qc,qcf->f", p - q, x) / len(keep) + l2 * weights
        moment = 0.9 * moment + 0.1 * grad
        second = 0.999 * second + 0.001 * grad**2
        weights -= 0.1 * (moment / (1 - 0.9**step)) / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--train", required=True, help="stem of the data set to fit on")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/fusion-cache"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sets = {p.stem: candidate_lists(cached_run(p, args.backend, args.cache), args.depth) for p in args.datasets}
    feats = {name: [candidate_features(c) for c, _ in rows] for name, rows in sets.items()}
    weights = fit(feats[args.train], [y for _, y in sets[args.train]])
    print("shipped weights", LEARNED_WEIGHTS)
    print("fitted on", args.train, {n: round(float(w), 2) for n, w in zip(FEATURES, weights, strict=True)})
    fitted = dict(zip(FEATURES, weights, strict=True))
    for name, rows in sets.items():
        labels = [y for _, y in rows]
        single = {"bm25": [(c.bm25, y) for c, y in rows], "dense": [(c.dense, y) for c, y in rows]}
        for label, scored in single.items():
            print(name, label, _fmt(recalls(scored)))
        for kind in ("weighted", "rrf", "learned"):  # "learned" = the shipped LEARNED_WEIGHTS
            fusion = create_fusion(kind)
            print(name, kind, _fmt(recalls([(fusion.scores(c), y) for c, y in rows])))
        w = np.array([fitted[n] for n in FEATURES])
        print(name, "refit", _fmt(recalls([(f @ w, y) for f, y in zip(feats[name], labels, strict=True)])))


def _fmt(metrics: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4f}" for k, v in metrics.items())


if __name__ == "__main__":
    main()

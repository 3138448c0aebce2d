"""Query latency (embed + BM25 + dense search + fusion, one question at a time) and memory at N passages.

Real CMRC/DRCD passages are embedded once; up to N, synthetic passages are made by shuffling their sentences
together, with vectors near the real ones (cosine about 0.8), so BM25 postings and dense neighbourhoods look real.

    python benchmarks/latency.py ../shared/data/cmrc2018_dev.json ../shared/data/drcd_test.json --passages 10000
    python benchmarks/latency.py ../shared/data/cmrc2018_dev.json ../shared/data/drcd_test.json --passages 1000000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import time
from datetime import date
from pathlib import Path

import numpy as np

from bot.bm25 import BM25Index
from bot.config import load_config
from bot.embed import Embedder
from bot.evaluate import load_squad
from bot.models import Passage
from bot.passages import SENTENCE, split_passages
from bot.retrieve import HybridRetriever
from bot.store import IndexData
from bot.tokenize import tokenize
from bot.vectors import approximate_recall, create_vector_index


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def real_pool(paths: list[Path], count: int) -> tuple[list[str], list[str]]:
    """Up to `count` real passages (product splitting) and all questions of the given sets."""
    texts, questions = [], []
    for path in paths:
        eval_set = load_squad(path)
        texts += [p.text for a in eval_set.articles for p in split_passages(a, 80, 300)]
        questions += [q.text for q in eval_set.questions]
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.permutation(len(texts))[:count]], questions


def synthetic(pool: list[str], vectors: np.ndarray, total: int, rng) -> tuple[list[Passage], list[list[str]], np.ndarray]:
    """`total` passages: the real pool, then sentence mixes of it with tokens reused and vectors perturbed."""
    sentences = [s.group(0) for text in pool for s in SENTENCE.finditer(text) if s.group(0).strip()]
    sentence_tokens = [tokenize(s) for s in sentences]
    passages = [Passage(f"r{i}", f"a{i}", 0, 0, len(t), t) for i, t in enumerate(pool)]
    tokens = [tokenize(t) for t in pool]
    out = np.empty((total, vectors.shape[1]), dtype=np.float32)
    out[: len(pool)] = vectors
    for start in range(len(pool), total, 100_000):
        n = min(100_000, total - start)
        base = vectors[rng.integers(0, len(pool), n)]
        noisy = base + rng.standard_normal(base.shape).astype(np.float32) * 0.75 / np.sqrt(base.shape[1])
        out[start : start + n] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    picks = rng.integers(0, len(sentences), (total - len(pool), 4))
    for i, row in enumerate(picks, len(pool)):
        text = "".join(sentences[j] for j in row)
        passages.append(Passage(f"s{i}", f"a{i}", 0, 0, len(text), text))
        tokens.append([tok for j in row for tok in sentence_tokens[j]])
    return passages, tokens, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--real", type=int, default=1500, help="real passages to embed")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"))
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = load_config(args.config)
    e = config.embedding
    embedder = Embedder(e.model, e.device, e.batch_size, args.backend or e.backend)
    pool, questions = real_pool(args.datasets, args.real)
    rng = np.random.default_rng(1)
    passages, tokens, vectors = synthetic(pool, embedder.encode(pool), args.passages, rng)
    before = rss_mb()
    started = time.perf_counter()
    dense = create_vector_index(embedder.dimension, len(vectors), config.index.approximate_above,
                                config.index.hnsw_m, config.index.hnsw_ef_search)
    dense.add(vectors)
    bm25 = BM25Index.build(tokens)
    build_s = time.perf_counter() - started
    probe = vectors[rng.integers(0, len(vectors), 200)]
    recall = approximate_recall(dense, vectors, probe, k=10) if dense.kind != "flat" else 1.0
    del tokens, vectors
    data = IndexData({}, {}, passages, [], bm25, dense)
    retriever = HybridRetriever(data, embedder, config.retrieval)
    asked = [questions[i] for i in rng.permutation(len(questions))[: args.queries]]
    for question in asked[:5]:
        retriever.search(question, 20)
    millis = []
    for question in asked:
        t = time.perf_counter()
        retriever.search(question, 20)
        millis.append((time.perf_counter() - t) * 1000)
    print(json.dumps({
        "date": str(date.today()), "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU",
        "passages": len(passages), "vector_index": dense.kind, "backend": embedder.backend,
        "fusion": config.retrieval.fusion, "queries": len(millis),
        "query_ms_p50": round(float(np.percentile(millis, 50)), 1),
        "query_ms_p95": round(float(np.percentile(millis, 95)), 1),
        "approx_recall@10_vs_exact": round(recall, 4), "index_build_s": round(build_s, 1),
        "rss_mb_before_index": round(before), "rss_mb_serving": round(rss_mb()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()

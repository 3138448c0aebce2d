"""Query latency (embed + BM25 + dense search + fusion, one question at a time) and memory at N passages.

Real CMRC/DRCD passages are embedded once; up to N, synthetic passages are made by shuffling their sentences
together, with vectors near the real ones (cosine about 0.8), so BM25 postings and dense neighbourhoods look real.
The index is written with `write_index`, then a fresh process loads it with `load_index` and serves the questions,
so the serving memory is that of the real serving path, not of the builder.

    python benchmarks/latency.py ../shared/data/cmrc2018_dev.json ../shared/data/drcd_test.json --passages 10000
    python benchmarks/latency.py ../shared/data/cmrc2018_dev.json ../shared/data/drcd_test.json --passages 1000000 \
        --approximate ivf
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from bot.bm25 import BM25Index
from bot.config import load_config
from bot.evaluate import load_squad
from bot.models import Passage
from bot.passages import SENTENCE, split_passages
from bot.retrieve import HybridRetriever
from bot.service import make_embedder
from bot.store import IndexData, load_index, write_index
from bot.tokenize import tokenize
from bot.vectors import create_vector_index


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process image, in MB (VmHWM, which unlike ru_maxrss restarts at exec)."""
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmHWM")) / 1024


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
    parser.add_argument("--approximate", choices=("hnsw", "ivf"), help="override index.approximate")
    parser.add_argument("--nprobe", type=int, help="override index.ivf_nprobe")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--keep", type=Path, help="write the index into this folder and keep it")
    parser.add_argument("--serve", type=Path, help="only serve (time) an index a --keep run wrote")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = load_config(args.config)
    config.embedding.backend = args.backend or config.embedding.backend
    config.index.approximate = args.approximate or config.index.approximate
    config.index.ivf_nprobe = args.nprobe or config.index.ivf_nprobe
    if args.serve:
        config.index.dir = args.serve
        print(json.dumps(serve(config, args)))
        return
    with tempfile.TemporaryDirectory(prefix="latency-") as scratch:
        folder = str(args.keep or scratch)
        config.index.dir = Path(folder)
        built = build(config, args)
        child = [sys.executable, __file__, *map(str, args.datasets), "--serve", folder, "--queries", str(args.queries),
                 "--backend", config.embedding.backend, "--approximate", config.index.approximate,
                 "--nprobe", str(config.index.ivf_nprobe), *(["--config", str(args.config)] if args.config else [])]
        served = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
    print(json.dumps({
        "date": str(date.today()), "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU",
        **served, **built,
    }))


def build(config, args) -> dict:
    """Make, index and write the synthetic collection; the approximate index's recall against exact search."""
    embedder = make_embedder(config)
    pool, questions = real_pool(args.datasets, args.real)
    rng = np.random.default_rng(1)
    passages, tokens, vectors = synthetic(pool, embedder.encode(pool), args.passages, rng)
    started = time.perf_counter()
    ix = config.index
    dense = create_vector_index(embedder.dimension, len(vectors), ix.approximate_above, ix.hnsw_m, ix.hnsw_ef_search,
                                ix.approximate, ix.ivf_nprobe)
    dense.add(vectors)
    vector_s = time.perf_counter() - started
    bm25 = BM25Index.build(tokens)
    build_s = time.perf_counter() - started
    recall = {}
    if dense.kind != "flat":
        probes = {"passages": vectors[rng.integers(0, len(vectors), 200)],
                  "questions": embedder.encode([questions[i] for i in rng.permutation(len(questions))[:200]])}
        recall = recall_table(dense, vectors, probes, config)
    manifest = {"model": config.embedding.model, "dimension": embedder.dimension, "passages": len(passages),
                "vector_index": dense.kind}
    del vectors
    write_index(config, IndexData(manifest, {}, passages, tokens, bm25, dense))
    return {"vector_index_build_s": round(vector_s, 1), "index_build_s": round(build_s, 1), **recall,
            "builder_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def recall_table(dense, vectors: np.ndarray, probes: dict[str, np.ndarray], config, k: int = 10) -> dict:
    """Recall@k of the approximate index against brute force, per probe set (and per nprobe for IVF)."""
    out = {}
    for name, queries in probes.items():
        exact = np.vstack([top_rows(block @ vectors.T, k) for block in np.array_split(queries, max(1, len(queries) // 20))])
        settings = (8, 16, 32, 64, 128, 256) if dense.kind == "ivf" else (None,)
        for nprobe in settings:
            if nprobe is not None:
                dense._index.nprobe = nprobe
            _, found = dense.search(queries, k)
            recall = float(np.mean([len(set(e) & set(f)) / k for e, f in zip(exact, found, strict=True)]))
            out[f"recall@{k}_{name}" + (f"_nprobe{nprobe}" if nprobe else "")] = round(recall, 4)
    if dense.kind == "ivf":
        dense._index.nprobe = config.index.ivf_nprobe
    return out


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The k best columns of each row, best first."""
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)


def serve(config, args) -> dict:
    """Load the written index as the bot does and time one question at a time."""
    before = rss_mb()
    data = load_index(config, check_model=False)
    embedder = make_embedder(config)
    retriever = HybridRetriever(data, embedder, config.retrieval)
    _, questions = real_pool(args.datasets, 0)
    rng = np.random.default_rng(2)
    asked = [questions[i] for i in rng.permutation(len(questions))[: args.queries]]
    for question in asked[:5]:
        retriever.search(question, 20)
    millis = []
    for question in asked:
        t = time.perf_counter()
        retriever.search(question, 20)
        millis.append((time.perf_counter() - t) * 1000)
    return {
        "passages": len(data.passages), "vector_index": data.dense.kind, "backend": embedder.backend,
        "fusion": config.retrieval.fusion, "queries": len(millis),
        "query_ms_p50": round(float(np.percentile(millis, 50)), 1),
        "query_ms_p95": round(float(np.percentile(millis, 95)), 1),
        **({"ivf_nprobe": config.index.ivf_nprobe} if data.dense.kind == "ivf" else {}),
        "stage_ms_p50": stage_timings(retriever, asked),
        "rss_mb_python_start": round(before), "rss_mb_serving": round(rss_mb()),
        "serving_peak_rss_mb": round(peak_rss_mb()),
    }


def stage_timings(retriever: HybridRetriever, asked: list[str]) -> dict:
    """Median milliseconds of each stage of a search, timed separately."""
    data, stages = retriever.data, {"tokenize+bm25": [], "embed": [], "dense_search": [], "total": []}
    for question in asked:
        t0 = time.perf_counter()
        data.bm25.scores(tokenize(question))
        t1 = time.perf_counter()
        vector = retriever.embedder.encode([question])
        t2 = time.perf_counter()
        data.dense.search(vector, retriever.config.candidates)
        t3 = time.perf_counter()
        retriever.search(question, 20)
        t4 = time.perf_counter()
        for name, ms in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[name].append(ms * 1000)
    return {name: round(float(np.median(ms)), 2) for name, ms in stages.items()}


if __name__ == "__main__":
    main()

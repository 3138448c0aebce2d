"""Seconds to add 1 article to an index of 10,000 passages with `index add`, against a full build of the same.

    python benchmarks/incremental_add.py [--passages 10000] [--device cpu] [--sample 256]

The base index is built from generated articles (sentences recombined from the seed corpus) in a temporary
project; its vectors are random unit vectors so that the setup itself takes seconds, not a full embedding run.
The full-build figure is extrapolated from the measured embedding rate on a sample of the passages.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.config import load_config
from bot.corpus import load_corpus
from bot.ingest import add_inputs
from bot.models import Article
from bot.passages import split_passages
from bot.service import make_embedder
from bot.store import build_index, read_manifest, write_index

ROOT = Path(__file__).resolve().parents[1]


class RandomVectors:
    """A stand-in embedder for building the base index only: random unit vectors, no model."""

    def __init__(self, dimension: int, batch_size: int = 32):
        self.dimension = dimension
        self.batch_size = batch_size
        self._rng = np.random.default_rng(0)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = self._rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def generated_articles(count_passages: int) -> list[Article]:
    """Articles of seed sentences shuffled into new bodies until they hold about `count_passages` passages."""
    sentences = [s for a in load_corpus(ROOT / "corpus") for s in re.findall(r"[^。！？]+[。！？]", a.text) if len(s) > 15]
    rng = random.Random(0)
    articles: list[Article] = []
    seen: set[str] = set()
    while len(seen) < count_passages:
        body = tuple("".join(rng.sample(sentences, 4)) + f"第{len(articles)}篇第{i}段。" for i in range(6))
        article = Article(f"g{len(articles):06d}", f"生成文章{len(articles)}", "2025-01-01", "基准", None, None, body)
        articles.append(article)
        seen.update(p.id for p in split_passages(article))
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--sample", type=int, default=256, help="passages embedded to estimate a full build")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "corpus").mkdir()
        (folder / "config.yaml").write_text("corpus: {dir: corpus}\nindex: {dir: index}\n", encoding="utf-8")
        config = load_config(folder / "config.yaml")
        articles = generated_articles(args.passages)
        started = time.perf_counter()
        base = build_index(config, articles, RandomVectors(512), progress=False)
        write_index(config, base)
        print(f"base index: {len(base.articles)} articles, {len(base.passages)} passages "
              f"(set up in {time.perf_counter() - started:.1f} s with random vectors)")

        embedder = make_embedder(config, args.device)  # loaded once, as a running process would have it
        embedder.encode(["预热"])
        record = folder / "new.json"
        record.write_text(json.dumps({
            "title": "西宁三座新图书馆八月开放", "date": "2025-07-01", "source": "西宁晚报",
            "text": "西宁市文旅局宣布，三座新建图书馆将于8月18日同时开放，三馆共藏书四十二万册。\n"
                    "市民凭身份证即可免费办理借书证，每人每次最多可借阅十册图书，借期为一个月。\n" * 3,
        }, ensure_ascii=False), encoding="utf-8")
        started = time.perf_counter()
        add_inputs(config, [str(record)], device=args.device, progress=False)
        add_seconds = time.perf_counter() - started
        extend = read_manifest(config)["build_seconds"]
        print(f"index add of 1 article, in process: {add_seconds:.2f} s (model already loaded; "
              f"split+embed+BM25 rebuild {extend:.2f} s, the rest is loading, dedupe and writing the generation)")

        second = folder / "second.json"
        second.write_text(record.read_text(encoding="utf-8").replace("西宁", "海东"), encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "index", "add", str(second), "--device", args.device,
                        "--config", str(folder / "config.yaml")], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"python -m bot index add of 1 article, cold process: {time.perf_counter() - started:.2f} s "
              "(imports and model load included)")

        sample = [p.text for p in base.passages[: args.sample]]
        started = time.perf_counter()
        embedder.encode(sample)
        rate = len(sample) / (time.perf_counter() - started)
        print(f"full build would embed {len(base.passages)} passages at {rate:.1f} passages/s "
              f"(measured on {len(sample)}): about {len(base.passages) / rate:.0f} s")


if __name__ == "__main__":
    main()

"""Build throughput: passages embedded per second by each embedding backend on real CMRC/DRCD passages.

    python benchmarks/throughput.py ../shared/data/cmrc2018_dev.json --passages 600

Passages come from the product's own splitting of the data set's paragraphs; each backend is loaded and warmed
up on 32 passages first, then timed over the same passages (all through `Embedder.encode`, as `index build` does).
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date
from pathlib import Path

from bot.embed import Embedder
from bot.evaluate import load_squad
from bot.passages import split_passages


def passages_of(path: Path, count: int) -> list[str]:
    """The first `count` passages of the data set, split as the product splits them."""
    texts: list[str] = []
    for article in load_squad(path).articles:
        texts.extend(p.text for p in split_passages(article))
        if len(texts) >= count:
            break
    return texts[:count]


def measure(backend: str, texts: list[str], batch_size: int) -> float:
    """Passages per second for one backend."""
    embedder = Embedder("m3e-small", backend=backend, batch_size=batch_size)
    embedder.encode(texts[:32])
    started = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--passages", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    args = parser.parse_args()
    texts = passages_of(args.dataset, args.passages)
    chars = sum(map(len, texts)) / len(texts)
    print(f"{date.today()} {platform.machine()} {len(texts)} passages of {args.dataset.name}, mean {chars:.0f} chars")
    print("| backend | passages/s |\n|---|---|")
    for backend in args.backends:
        print(f"| {backend} | {measure(backend, texts, args.batch_size):.1f} |", flush=True)


if __name__ == "__main__":
    main()

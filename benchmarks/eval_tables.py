"""The full retrieval table: every given SQuAD set × bm25/dense/hybrid, through the same code as `python -m bot eval`.

    python benchmarks/eval_tables.py ../shared/data/cmrc2018_dev.json ../shared/data/drcd_test.json [--backend onnx-int8]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
from datetime import date
from pathlib import Path

from bot.config import load_config
from bot.evaluate import evaluate, load_squad, render_table
from bot.retrieve import MODES
from bot.service import make_embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--config", type=Path, help="config file (default: ./config.yaml)")
    parser.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"), help="override embedding.backend")
    parser.add_argument("--fusion", choices=("learned", "weighted", "rrf"), help="override retrieval.fusion")
    parser.add_argument("--limit", type=int, help="first N paragraphs of each set")
    parser.add_argument("--json", type=Path, help="also write the results as a JSON list here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = load_config(args.config)
    config.embedding.backend = args.backend or config.embedding.backend
    config.retrieval.fusion = args.fusion or config.retrieval.fusion
    embedder = make_embedder(config)
    results = [r for path in args.datasets for r in evaluate(config, load_squad(path, args.limit), MODES, embedder)]
    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"backend {config.embedding.backend}, fusion {config.retrieval.fusion}\n")
    print(render_table(results))
    if args.json:
        args.json.write_text(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

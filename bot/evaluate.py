"""SQuAD-format data → retrieval metrics: every paragraph is indexed, every question is asked."""

from __future__ import annotations

import copy
import json
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.config import Config
from bot.embed import Embedder
from bot.errors import BotError
from bot.models import Article
from bot.retrieve import MODES, HybridRetriever
from bot.service import make_embedder
from bot.store import IndexData, build_index, load_index, write_index

logger = logging.getLogger(__name__)

DEPTH = 20


class DatasetError(BotError):
    """The evaluation data set is missing, unreadable or not in SQuAD format."""


@dataclass(frozen=True)
class Question:
    """One labelled question and the article (paragraph) that answers it."""

    text: str
    article_id: str


@dataclass(frozen=True)
class EvalSet:
    """Paragraphs as articles and their questions, read from one SQuAD file."""

    name: str
    articles: list[Article]
    questions: list[Question]


@dataclass(frozen=True)
class EvalResult:
    """Retrieval quality and speed of one mode on one data set."""

    dataset: str
    mode: str
    paragraphs: int
    questions: int
    passages: int
    recall_at_1: float
    recall_at_5: float
    recall_at_20: float
    mrr_at_10: float
    query_ms_p50: float
    query_ms_p95: float
    build_passages_per_s: float

    def to_json(self) -> dict:
        """The public JSON object printed by `eval --json`."""
        return {
            "dataset": self.dataset, "mode": self.mode, "paragraphs": self.paragraphs,
            "questions": self.questions, "passages": self.passages,
            "recall@1": self.recall_at_1, "recall@5": self.recall_at_5, "recall@20": self.recall_at_20,
            "mrr@10": self.mrr_at_10, "query_ms_p50": self.query_ms_p50, "query_ms_p95": self.query_ms_p95,
            "build_passages_per_s": self.build_passages_per_s,
        }


def load_squad(path: Path, limit: int | None = None) -> EvalSet:
    """Read the first `limit` paragraphs (all without a limit) and their questions."""
    paragraphs = _squad_paragraphs(_read_json(path), path)[: limit if limit is not None else None]
    articles, questions = [], []
    for number, (title, paragraph) in enumerate(paragraphs):
        article = paragraph_article(number, title, paragraph, path)
        articles.append(article)
        questions.extend(Question(q["question"], article.id) for q in paragraph.get("qas", []) if q.get("question"))
    if not questions:
        raise DatasetError(f"{path} holds no question in its first {len(paragraphs)} paragraphs; give SQuAD-format data")
    return EvalSet(path.stem, articles, questions)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"data set {path} not found; give the path of a SQuAD-format JSON file") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{path} is not readable JSON ({exc.__class__.__name__}); give a SQuAD-format file") from exc


def _squad_paragraphs(data: dict, path: Path) -> list[tuple[str, dict]]:
    documents = data.get("data") if isinstance(data, dict) else None
    if not isinstance(documents, list):
        raise DatasetError(f"{path} is not SQuAD format: expected {{\"data\": [{{\"paragraphs\": [...]}}]}}")
    pairs = [(str(doc.get("title") or ""), p) for doc in documents if isinstance(doc, dict)
             for p in doc.get("paragraphs", []) if isinstance(p, dict) and str(p.get("context") or "").strip()]
    if not pairs:
        raise DatasetError(f"{path} holds no paragraph with a context; give SQuAD-format data")
    return pairs


def paragraph_article(number: int, title: str, paragraph: dict, path: Path) -> Article:
    """One paragraph as an article whose body lines are the context's lines."""
    lines = tuple(line.strip() for line in str(paragraph["context"]).splitlines() if line.strip())
    return Article(
        id=f"{number:06d}-{paragraph.get('id', '')}", title=title, date=None, source=path.stem,
        author=None, url=None, body=lines, origin=str(path),
    )


def evaluate(config: Config, eval_set: EvalSet, modes: tuple[str, ...], embedder: Embedder) -> list[EvalResult]:
    """Index the set once in a temporary folder and score every question in each mode."""
    with tempfile.TemporaryDirectory(prefix="bot-eval-") as folder:
        local = copy.deepcopy(config)
        local.index.dir = Path(folder)
        started = time.perf_counter()
        write_index(local, build_index(local, eval_set.articles, embedder))
        data = load_index(local)
        speed = len(data.passages) / (time.perf_counter() - started)
        logger.info("indexed %d passages at %.1f passages/s", len(data.passages), speed)
        return [_score_mode(local, eval_set, data, embedder, mode, speed) for mode in modes]


def _score_mode(config: Config, eval_set: EvalSet, data: IndexData, embedder: Embedder, mode: str,
                speed: float) -> EvalResult:
    # BM25 alone never needs the question's vector, so its latency excludes the embedding model.
    retriever = HybridRetriever(data, None if mode == "bm25" else embedder, config.retrieval)
    ranks, millis = [], []
    for question in eval_set.questions:
        started = time.perf_counter()
        hits = retriever.search(question.text, DEPTH, mode=mode)
        millis.append((time.perf_counter() - started) * 1000)
        ranks.append(first_rank([hit.passage.article_id for hit in hits], question.article_id))
    return _result(eval_set, mode, len(data.passages), ranks, millis, speed)


def first_rank(article_ids: list[str], wanted: str) -> int | None:
    """1-based rank of the first hit from the wanted article, or None."""
    return next((rank for rank, article_id in enumerate(article_ids, 1) if article_id == wanted), None)


def _result(eval_set: EvalSet, mode: str, passages: int, ranks: list[int | None], millis: list[float],
            speed: float) -> EvalResult:
    found = np.array([r if r is not None else 10**9 for r in ranks], dtype=np.float64)
    return EvalResult(
        dataset=eval_set.name, mode=mode, paragraphs=len(eval_set.articles), questions=len(eval_set.questions),
        passages=passages,
        recall_at_1=_mean(found <= 1), recall_at_5=_mean(found <= 5), recall_at_20=_mean(found <= 20),
        mrr_at_10=_mean(np.where(found <= 10, 1.0 / found, 0.0)),
        query_ms_p50=round(float(np.percentile(millis, 50)), 2),
        query_ms_p95=round(float(np.percentile(millis, 95)), 2),
        build_passages_per_s=round(speed, 1),
    )


def _mean(values: np.ndarray) -> float:
    return round(float(np.mean(values)), 4)


def render_table(results: list[EvalResult]) -> str:
    """A Markdown table, one row per data set and mode."""
    head = "| data set | mode | paragraphs | questions | passages | R@1 | R@5 | R@20 | MRR@10 | p50 ms | p95 ms | build p/s |"
    rows = [head, "|" + "---|" * 12]
    for r in results:
        rows.append(
            f"| {r.dataset} | {r.mode} | {r.paragraphs} | {r.questions} | {r.passages} | {r.recall_at_1:.3f} | "
            f"{r.recall_at_5:.3f} | {r.recall_at_20:.3f} | {r.mrr_at_10:.3f} | {r.query_ms_p50:.1f} | "
            f"{r.query_ms_p95:.1f} | {r.build_passages_per_s:.1f} |"
        )
    return "\n".join(rows)


def run_eval_command(config: Config, dataset_path: Path, mode: str, limit: int | None, as_json: bool) -> int:
    """Evaluate retrieval on a SQuAD file and print a table or JSON."""
    if limit is not None and limit < 1:
        raise DatasetError(f"--limit must be at least 1, got {limit}")
    eval_set = load_squad(Path(dataset_path), limit)
    modes = MODES if mode == "all" else (mode,)
    results = evaluate(config, eval_set, modes, make_embedder(config))
    if as_json:
        objects = [r.to_json() for r in results]
        print(json.dumps(objects if mode == "all" else objects[0], ensure_ascii=False))
    else:
        print(render_table(results))
    return 0

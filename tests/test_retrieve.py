"""The retriever ranks the passage that answers a dev question first, in every mode, with both raw scores."""

from __future__ import annotations

import json

import pytest

from bot.script import to_simplified
from tests.conftest import SHARED

DEV = [json.loads(line) for line in (SHARED / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
ANSWERABLE = [row for row in DEV if not row.get("abstain")]


@pytest.mark.parametrize("row", ANSWERABLE, ids=[row["id"] for row in ANSWERABLE])
def test_hybrid_finds_the_answer_in_the_top_three(service, row: dict) -> None:
    hits = service.retriever.search(row["q"], 3, mode="hybrid")
    assert any(to_simplified(row["answers"][0]) in to_simplified(hit.passage.text) for hit in hits)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_hits_carry_both_raw_scores_in_rank_order(service, mode: str) -> None:
    hits = service.retriever.search(ANSWERABLE[0]["q"], 5, mode=mode)
    assert len(hits) == 5
    assert all(hit.bm25 is not None and hit.dense is not None for hit in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    if mode == "dense":
        assert [h.score for h in hits] == [h.dense for h in hits]


def test_dense_cosine_is_raw_for_abstention(service) -> None:
    hits = service.retriever.search(ANSWERABLE[0]["q"], 1, mode="hybrid")
    assert 0.7 < hits[0].dense <= 1.0


def test_bm25_only_retriever_works_without_a_model(service) -> None:
    from bot.retrieve import HybridRetriever

    retriever = HybridRetriever(service.retriever.data, None, service.config.retrieval)
    hits = retriever.search(ANSWERABLE[0]["q"], 3)
    assert hits and all(hit.dense is None for hit in hits)

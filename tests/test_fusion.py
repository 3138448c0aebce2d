"""Fusion ranks the passage both retrievers support, and verbatim overlap breaks their disagreements."""

from __future__ import annotations

import numpy as np
import pytest

from bot.fusion import (
    FEATURES,
    Candidates,
    LearnedFusion,
    candidate_features,
    create_fusion,
    longest_match,
    normalise_max,
    normalise_minmax,
    overlap_features,
    reciprocal_rank,
)

QUESTION = "青海的国家区域医疗中心平移了多少项新技术？"
TEXTS = [
    "江苏专家青海行一共组织了150批，培养科室接班人200余名。",
    "青海省国家区域医疗中心累计平移新技术77项，填补省内空白。",
    "各地财政累计投入70多亿元支持省级临床重点专科建设。",
]


def test_learned_fusion_prefers_the_passage_that_answers() -> None:
    candidates = Candidates(QUESTION, TEXTS, bm25=np.array([5.0, 4.0, 1.0]), dense=np.array([0.80, 0.79, 0.70]))
    scores = LearnedFusion().scores(candidates)
    assert int(np.argmax(scores)) == 1


def test_traditional_passages_match_simplified_questions() -> None:
    simplified = overlap_features(QUESTION, [TEXTS[1]])[0]
    traditional = overlap_features(QUESTION, ["青海省國家區域醫療中心累計平移新技術77項，填補省內空白。"])[0]
    assert simplified[:3] == traditional[:3] and simplified[0] > 0.5


@pytest.mark.parametrize("kind", ["learned", "weighted", "rrf"])
def test_every_fusion_agrees_when_both_retrievers_agree(kind: str) -> None:
    candidates = Candidates(QUESTION, TEXTS, bm25=np.array([1.0, 9.0, 2.0]), dense=np.array([0.5, 0.9, 0.6]))
    assert int(np.argmax(create_fusion(kind).scores(candidates))) == 1


def test_unknown_fusion_is_refused() -> None:
    with pytest.raises(ValueError, match="learned, weighted, rrf"):
        create_fusion("magic")


def test_features_have_one_row_per_candidate() -> None:
    candidates = Candidates(QUESTION, TEXTS, bm25=np.zeros(3), dense=np.array([0.7, 0.7, 0.7]))
    features = candidate_features(candidates)
    assert features.shape == (3, len(FEATURES))
    assert np.isfinite(features).all()


def test_building_blocks() -> None:
    assert longest_match("国家区域医疗中心", "在区域医疗中心里") == 6
    assert longest_match("abc", "xyz") == 0
    assert reciprocal_rank(np.array([0.1, 0.9, 0.5])).argmax() == 1
    assert normalise_max(np.array([2.0, 4.0])).tolist() == [0.5, 1.0]
    assert normalise_minmax(np.array([0.6, 0.8, 0.7])).tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert normalise_max(np.zeros(2)).tolist() == [0.0, 0.0]

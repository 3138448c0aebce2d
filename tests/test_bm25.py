"""BM25 over jieba tokens ranks the passage holding the question's rare terms first and survives a save."""

from __future__ import annotations

import numpy as np
import pytest

from bot.bm25 import BM25Index, top_k
from bot.errors import IndexCorruptError
from bot.tokenize import tokenize

PASSAGES = [
    "青海组建46个紧密型县域医共体，覆盖62家县级医院。",
    "江苏通过师徒结对培养200余名科室接班人。",
    "建成省远程医疗平台，由12家省级三级医院提供支撑。",
    "",
]


@pytest.fixture
def index() -> BM25Index:
    return BM25Index.build([tokenize(p) for p in PASSAGES])


def test_rare_terms_rank_their_passage_first(index):
    scores = index.scores(tokenize("師徒結對培養了多少接班人"))  # traditional question, simplified passage
    assert int(top_k(scores, 3)[0]) == 1


def test_unknown_terms_score_nothing(index):
    assert not index.scores(tokenize("护照签证")).any()
    assert len(top_k(index.scores(tokenize("护照")), 3)) == 0


def test_empty_passage_keeps_rows_aligned(index):
    assert index.size == 4 and len(index.scores(["医院"])) == 4


def test_idf_weights_rare_and_unknown_terms_higher(index):
    assert index.idf("护照") > index.idf("接班人") > 0
    assert index.idf("医院") < index.idf("接班人")


def test_save_and_load_round_trip(tmp_path, index):
    index.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    query = tokenize("远程医疗平台")
    assert np.allclose(again.scores(query), index.scores(query)) and again.doc_freq == index.doc_freq


def test_missing_files_are_reported_as_corrupt(tmp_path):
    with pytest.raises(IndexCorruptError, match="index build --full"):
        BM25Index.load(tmp_path / "nothing")

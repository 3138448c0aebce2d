"""`eval` indexes every paragraph of a SQuAD file in a temporary folder and reports recall and speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.evaluate import DatasetError, first_rank, load_squad

KEYS = {"dataset", "mode", "paragraphs", "questions", "passages", "recall@1", "recall@5", "recall@20", "mrr@10",
        "query_ms_p50", "query_ms_p95", "build_passages_per_s"}

PARAGRAPHS = [
    ("青海医疗", "青海省的国家区域医疗中心已平移77项新技术，远程医疗平台由12家省级三级医院提供支撑。", "青海平移了多少项新技术？"),
    ("台灣高鐵", "台灣高速鐵路全長約350公里，連接台北與高雄，於2007年通車營運。", "台灣高鐵哪一年通車？"),
    ("量子计算", "量子计算机利用叠加与纠缠进行运算，谷歌在2019年宣布实现量子优越性。", "谷歌哪年宣布实现量子优越性？"),
    ("熊猫保护", "大熊猫主要分布在四川、陕西和甘肃的山区，以竹子为主要食物。", "大熊猫以什么为主要食物？"),
]


def write_squad(path: Path, paragraphs=PARAGRAPHS) -> Path:
    """A tiny SQuAD-format file: one document per paragraph, one question each."""
    data = {"version": "test", "data": [
        {"title": title, "paragraphs": [{"id": f"P{i}", "context": context,
                                         "qas": [{"id": f"P{i}-Q", "question": question, "answers": []}]}]}
        for i, (title, context, question) in enumerate(paragraphs)
    ]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_every_mode_prints_the_documented_json(make_config, tmp_path: Path, capsys) -> None:
    config = make_config(seed=False)
    dataset = write_squad(tmp_path / "tiny.json")
    assert main(["eval", str(dataset), "--mode", "all", "--json", "--config", str(config)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["mode"] for r in results] == ["bm25", "dense", "hybrid"]
    for result in results:
        assert set(result) == KEYS
        assert (result["dataset"], result["paragraphs"], result["questions"], result["passages"]) == ("tiny", 4, 4, 4)
        assert result["recall@1"] == 1.0 and result["mrr@10"] == 1.0
        assert result["query_ms_p95"] >= result["query_ms_p50"] > 0
    assert not (tmp_path / "index").exists(), "eval must never write the configured index folder"


def test_limit_keeps_the_first_paragraphs_and_their_questions(make_config, tmp_path: Path, capsys) -> None:
    config = make_config(seed=False)
    dataset = write_squad(tmp_path / "tiny.json")
    assert main(["eval", str(dataset), "--mode", "bm25", "--limit", "2", "--json", "--config", str(config)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["paragraphs"], result["questions"]) == (2, 2)


def test_table_output_names_each_mode(make_config, tmp_path: Path, capsys) -> None:
    config = make_config(seed=False)
    dataset = write_squad(tmp_path / "tiny.json")
    assert main(["eval", str(dataset), "--mode", "hybrid", "--config", str(config)]) == 0
    table = capsys.readouterr().out
    assert "| tiny | hybrid | 4 | 4 | 4 | 1.000 |" in table


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("{not json", "not readable JSON"),
        ('{"rows": []}', "not SQuAD format"),
        ('{"data": [{"title": "t", "paragraphs": []}]}', "no paragraph"),
        ('{"data": [{"title": "t", "paragraphs": [{"context": "正文。", "qas": []}]}]}', "no question"),
    ],
)
def test_bad_data_exits_2_with_one_line(make_config, tmp_path: Path, capsys, content, message) -> None:
    config = make_config(seed=False)
    dataset = tmp_path / "data.json"
    if content is not None:
        dataset.write_text(content, encoding="utf-8")
    assert main(["eval", str(dataset), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_paragraphs_become_articles_with_their_lines(tmp_path: Path) -> None:
    eval_set = load_squad(write_squad(tmp_path / "tiny.json"))
    assert [a.title for a in eval_set.articles] == [title for title, _, _ in PARAGRAPHS]
    assert eval_set.articles[1].text == PARAGRAPHS[1][1]
    assert {q.article_id for q in eval_set.questions} == {a.id for a in eval_set.articles}
    with pytest.raises(DatasetError):
        load_squad(tmp_path / "missing.json")


def test_first_rank_counts_from_one() -> None:
    assert first_rank(["a", "b", "b"], "b") == 2
    assert first_rank(["a"], "z") is None

"""The CLI interfaces other tools rely on, and the one-line errors (exit 2) for every bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from tests.conftest import ROOT

QUESTION = "江苏通过师徒结对培养了多少科室接班人？"
RESULT_KEYS = {"text", "title", "source", "date", "url", "article_id", "score"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project_copy(tmp_path: Path, seed_config_path: Path) -> Path:
    """A writable copy of the built seed project (corpus, index and config)."""
    target = tmp_path / "project"
    shutil.copytree(seed_config_path.parent, target, symlinks=True)
    return target / "config.yaml"


def _assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_ask_prints_quote_then_title_source_date(capsys, seed_config_path):
    code, out, _ = run(capsys, "ask", QUESTION, "--config", str(seed_config_path))
    assert code == 0
    assert "200余名科室接班人" in out
    assert "《江蘇深化醫療援青結碩果 精準幫扶助力青海健康事業邁上新臺階》 · 青海新聞網 · 2025-06-20" in out
    assert out.index("200余名") < out.index("青海新聞網 · 2025-06-20")


def test_ask_json_has_the_documented_fields(capsys, seed_config_path):
    code, out, _ = run(capsys, "--config", str(seed_config_path), "ask", QUESTION, "--json")
    data = json.loads(out)
    assert code == 0 and set(data) == {"question", "abstained", "results"}
    assert data["question"] == QUESTION and data["abstained"] is False
    assert 1 <= len(data["results"]) <= 3
    first = data["results"][0]
    assert set(first) == RESULT_KEYS
    assert (first["source"], first["date"]) == ("青海新聞網", "2025-06-20")
    assert isinstance(first["score"], float) and first["url"] is None


def test_ask_json_abstains_on_unrelated_question(capsys, seed_config_path):
    code, out, _ = run(capsys, "ask", "红烧肉怎么做", "--json", "--config", str(seed_config_path))
    assert code == 0 and json.loads(out) == {"question": "红烧肉怎么做", "abstained": True, "results": []}


def test_ask_text_abstains_with_hint(capsys, seed_config_path):
    code, out, _ = run(capsys, "ask", "最近有什么好看的电影", "--config", str(seed_config_path))
    assert code == 0 and out.startswith("没有找到相关内容") and "换个说法" in out


def test_ask_file_from_stdin_prints_jsonl(capsys, monkeypatch, seed_config_path):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{QUESTION}\n\n红烧肉怎么做\n縣級向鄉級派駐醫師多少人次\n"))
    code, out, _ = run(capsys, "ask", "--file", "-", "--json", "--config", str(seed_config_path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["question"] for r in rows] == [QUESTION, "红烧肉怎么做", "縣級向鄉級派駐醫師多少人次"]
    assert [r["abstained"] for r in rows] == [False, True, False]
    assert any("349人次" in r["text"] for r in rows[2]["results"])


def test_ask_file_reports_bad_lines_and_exits_2(capsys, tmp_path, seed_config_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{'医' * 5000}\n{QUESTION}\n", encoding="utf-8")
    code, out, _ = run(capsys, "ask", "--file", str(questions), "--json", "--config", str(seed_config_path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and "limit is 1000" in rows[0]["error"] and rows[1]["results"]


def test_mode_flag_selects_retriever(capsys, seed_config_path):
    for mode in ("bm25", "dense", "hybrid"):
        code, out, _ = run(capsys, "ask", QUESTION, "--json", "--mode", mode, "--config", str(seed_config_path))
        assert code == 0 and "200余名" in json.loads(out)["results"][0]["text"]


def test_chat_answers_question_after_question(capsys, monkeypatch, seed_config_path):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{QUESTION}\n红烧肉怎么做\n\n"))
    code, out, _ = run(capsys, "chat", "--config", str(seed_config_path))
    assert code == 0 and "已加载 5 篇文章" in out
    assert "200余名" in out and "没有找到相关内容" in out


def test_index_status_and_json(capsys, seed_config_path):
    code, out, _ = run(capsys, "index", "status", "--config", str(seed_config_path))
    assert code == 0 and "articles: 5" in out and "m3e-small" in out and "built at" in out
    code, out, _ = run(capsys, "index", "status", "--json", "--config", str(seed_config_path))
    status = json.loads(out)
    assert (status["articles"], status["model"], status["dimension"], status["normalized"]) == (5, "m3e-small", 512, True)
    assert status["passages"] > 30 and status["corpus_hash"] and status["built_at"]


def test_index_dump_lists_every_passage(capsys, seed_config_path):
    code, out, _ = run(capsys, "index", "dump", "--config", str(seed_config_path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len({r["article_id"] for r in rows}) == 5
    assert set(rows[0]) == {"passage_id", "article_id", "title", "source", "date", "url", "text"}
    assert len({r["passage_id"] for r in rows}) == len(rows)


def test_ask_builds_a_missing_index_automatically(capsys, make_config):
    config = make_config()
    code, out, _ = run(capsys, "ask", QUESTION, "--json", "--config", str(config))
    assert code == 0 and "200余名" in json.loads(out)["results"][0]["text"]
    assert (config.parent / "index" / "current" / "manifest.json").is_file()


def test_index_build_reuses_vectors_and_full_rebuilds(capsys, project_copy):
    code, out, _ = run(capsys, "index", "build", "--config", str(project_copy))
    assert code == 0 and "indexed 5 articles" in out
    code, out, _ = run(capsys, "index", "build", "--full", "--config", str(project_copy))
    assert code == 0 and "indexed 5 articles" in out


# ---- bad input: one line, exit 2, nothing already indexed is lost ----------------------------------------


@pytest.mark.parametrize("question, fragment", [("", "empty"), ("   ", "empty"), ("问" * 5000, "5000 characters")])
def test_bad_question(capsys, seed_config_path, question, fragment):
    code, _, err = run(capsys, "ask", question, "--config", str(seed_config_path))
    _assert_one_line_error(code, err, fragment)


def test_missing_config(capsys, tmp_path):
    code, _, err = run(capsys, "ask", QUESTION, "--config", str(tmp_path / "missing.yaml"))
    _assert_one_line_error(code, err, "config file not found", "missing.yaml")


def test_unreadable_config(capsys, tmp_path):
    code, _, err = run(capsys, "index", "status", "--config", str(tmp_path))  # a folder, not a file
    _assert_one_line_error(code, err, "config file not found")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00bad")
    code, _, err = run(capsys, "index", "status", "--config", str(bad))
    _assert_one_line_error(code, err, "cannot read config file")


def test_unknown_config_key_and_wrong_type(capsys, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  topk: 3\n")
    code, _, err = run(capsys, "ask", QUESTION, "--config", str(path))
    _assert_one_line_error(code, err, "unknown config key 'retrieval.topk'")
    path.write_text("retrieval:\n  top_k: many\n")
    code, _, err = run(capsys, "ask", QUESTION, "--config", str(path))
    _assert_one_line_error(code, err, "'retrieval.top_k' must be an integer")


@pytest.mark.parametrize(
    "embedding, fragment",
    [({"model": "BAAI/bge-small-zh-v1.5"}, "built with model 'm3e-small' (onnx-int8) but the config names 'BAAI/"),
     ({"backend": "torch"}, "(onnx-int8) but the config names 'm3e-small' (torch)")],
)
def test_index_built_with_another_model_or_backend(capsys, project_copy, embedding, fragment):
    data = yaml.safe_load(project_copy.read_text())
    data["embedding"] = embedding
    project_copy.write_text(yaml.safe_dump(data))
    code, _, err = run(capsys, "ask", QUESTION, "--config", str(project_copy))
    _assert_one_line_error(code, err, fragment, "index build --full")


@pytest.mark.parametrize("name", ["vectors.faiss", "passages.jsonl", "manifest.json", "bm25"])
def test_missing_or_corrupt_index_file(capsys, project_copy, name):
    target = project_copy.parent / "index" / "current" / name
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.write_bytes(b"\x00garbage")
    code, _, err = run(capsys, "ask", QUESTION, "--config", str(project_copy))
    _assert_one_line_error(code, err, "missing or corrupt", "index build --full")


def test_empty_corpus_folder_keeps_the_existing_index(capsys, project_copy):
    corpus = project_copy.parent / "corpus"
    for page in corpus.iterdir():
        page.unlink()
    code, _, err = run(capsys, "index", "build", "--config", str(project_copy))
    _assert_one_line_error(code, err, "holds no readable article")
    code, out, _ = run(capsys, "ask", QUESTION, "--json", "--config", str(project_copy))
    assert code == 0 and "200余名" in json.loads(out)["results"][0]["text"]


def test_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["ask", "--mode", "fuzzy", "q"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1 and "invalid choice" in err


def test_python_dash_m_bot_runs_as_a_program(seed_config_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "縣級向鄉級派駐醫師多少人次", "--json", "--config", str(seed_config_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert "349人次" in result["results"][0]["text"] and result["results"][0]["source"] == "玉溪日報"
    assert "Traceback" not in proc.stderr


def test_config_before_or_after_the_subcommand_is_honoured(capsys, tmp_path):
    missing = tmp_path / "elsewhere.yaml"
    for argv in (["--config", str(missing), "index", "status"], ["index", "status", "--config", str(missing)]):
        code, _, err = run(capsys, *argv)
        _assert_one_line_error(code, err, "elsewhere.yaml")


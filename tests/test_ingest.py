"""`index add` / `index remove` end to end: every format, bad inputs, URLs, dedupe, crashes, locks, model guard."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot import fetch, store
from bot.cli import main
from bot.config import load_config
from bot.corpus import read_txt
from bot.errors import IndexLockedError
from bot.ingest import add_inputs
from bot.service import QAService, rebuild
from bot.store import index_lock, live_generation, load_index
from tests.conftest import ROOT, SEEDS
from tests.page_server import serve_folder
from tests.test_dedupe import SEED, syndicated_page

OLD_QUESTION = "江苏通过师徒结对培养了多少科室接班人？"
NEW_QUESTION = "西宁新建的三座图书馆一共藏书多少册？"
LIBRARY = {
    "title": "西宁三座新图书馆八月开放", "date": "2025-07-01", "source": "西宁晚报", "url": "https://xnwb.example/lib",
    "text": "西宁市文旅局7月1日宣布，城北、城西和湟中的三座新建图书馆将于8月18日同时开放，三馆共藏书四十二万册，"
            "设有少儿阅览区和古籍修复室。\n市民凭身份证即可免费办理借书证，每人每次最多可借阅十册图书，借期为一个月。",
}
GBK_BODY = "兰州市卫生健康委员会表示，今年全市新增家庭医生签约服务团队一百二十个，覆盖全部乡镇卫生院，朱镕基同志曾关心此事。"
BIG5_BODY = "臺中市政府衛生局表示，今年新增長照服務據點八十處，偏鄉居民就近即可獲得照護，服務人次較去年成長三成。"


def html(title: str, body: str, charset: str, info: str = "") -> str:
    return (f'<html><head><meta charset="{charset}"><title>{title}</title></head><body>'
            f"<h1>{title}</h1><p>{info}</p><p>{body}</p><p>{body[::-1][:20]}。</p></body></html>")


@pytest.fixture
def project(tmp_path: Path, seed_config_path: Path) -> Path:
    """A writable copy of the built seed project; returns its config path."""
    target = tmp_path / "project"
    shutil.copytree(seed_config_path.parent, target, symlinks=True)
    return target / "config.yaml"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A folder of good and bad inputs, written by the test itself."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "gbk.html").write_bytes(html("兰州新增家庭医生团队", GBK_BODY, "gbk", "发布时间：2025年6月20日").encode("gbk"))
    (folder / "big5.htm").write_bytes(html("臺中新增長照據點", BIG5_BODY, "big5", "2025-05-02 來源：中央社").encode("big5"))
    (folder / "library.json").write_text(json.dumps(LIBRARY, ensure_ascii=False), encoding="utf-8")
    dump = "首页 新闻 图片\n宁夏开通首条城际公交\n2025-03-03\n" + "银川至吴忠的城际公交线路今天正式开通，全程约一小时，票价十二元，每天运行四十个班次。\n"
    (folder / "nested").mkdir()
    (folder / "nested" / "dump.txt").write_text(dump, encoding="utf-8")
    (folder / "feed.jsonl").write_text(
        json.dumps({"title": "无日期的消息", "source": "某报", "text": "某县新修建的乡村公路已经全线贯通，沿线村民出行时间缩短一半。"},
                   ensure_ascii=False) + "\n{this is not json\n", encoding="utf-8")
    (original,) = read_txt(SEED)
    (folder / "copy.html").write_text(syndicated_page(original.body), encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blob.html").write_bytes(bytes(range(256)) * 40)
    (folder / "menu.html").write_text("<html><body>" + "".join(f"<a href='/{i}'>栏目{i}</a><br>" for i in range(40))
                                      + "</body></html>", encoding="utf-8")
    with open(folder / "huge.txt", "wb") as handle:
        handle.truncate(50 * 2**20)  # 50 MB, sparse
    outside = folder.parent / "outside.txt"
    outside.write_text(dump, encoding="utf-8")
    (folder / "escape.txt").symlink_to(outside)
    return folder


def run(capsys, config: Path, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_every_format_rejects_bad_inputs_and_build_reproduces_it(capsys, project, inputs):
    config = load_config(project)
    before = load_index(config)
    code, out, _ = run(capsys, project, "index", "add", str(inputs))
    lines = dict(line.split(": ", 2)[1:] and (line.split(": ", 2)[1], line) for line in out.splitlines()[:-1])
    assert code == 1
    for name in ("gbk.html", "big5.htm", "library.json", "nested/dump.txt", "feed.jsonl:1"):
        assert lines[str(inputs / name)].startswith("added: "), out
    assert "warning: no publication date found" in lines[str(inputs / "feed.jsonl:1")]
    assert "malformed JSON on line 2" in lines[str(inputs / "feed.jsonl:2")]
    assert "syndicated copy of 3c4a425fd8bc" in lines[str(inputs / "copy.html")]
    assert "empty file" in lines[str(inputs / "empty.txt")]
    assert "binary file" in lines[str(inputs / "blob.html")]
    assert "no article text" in lines[str(inputs / "menu.html")]
    assert "50.0 MB, over the 20 MB limit" in lines[str(inputs / "huge.txt")]
    assert "symlink points outside" in lines[str(inputs / "escape.txt")]
    assert out.splitlines()[-1].startswith("5 added, 1 skipped, 6 rejected; index now holds 10 articles")

    after = load_index(config)
    assert set(before.rows) <= set(after.rows)  # no passage lost
    by_title = {a.title: a for a in after.articles.values()}
    assert GBK_BODY in by_title["兰州新增家庭医生团队"].text and by_title["兰州新增家庭医生团队"].date == "2025-06-20"
    assert BIG5_BODY in by_title["臺中新增長照據點"].text and by_title["臺中新增長照據點"].source == "中央社"
    seed = after.articles["3c4a425fd8bc"]
    assert seed.source == "青海新聞網" and seed.also_reported_by == ("海东时报网",)
    assert len(after.passages) == len(before.passages) + sum(
        1 for p in after.passages if p.article_id not in before.articles)
    assert len(list((config.corpus.dir / "added").iterdir())) == 6  # five files added + the syndicated copy

    code, out, _ = run(capsys, project, "index", "status")
    assert "last add" in out and "5 added, 1 skipped, 6 rejected" in out

    rebuilt = rebuild(config, progress=False, full=True)
    assert {a.id: a.also_reported_by for a in rebuilt.articles.values()} == {
        a.id: a.also_reported_by for a in after.articles.values()}
    assert sorted(rebuilt.rows) == sorted(after.rows)


def test_adding_the_same_inputs_again_skips_them(capsys, project, inputs):
    for bad in ("empty.txt", "blob.html", "menu.html", "huge.txt", "escape.txt", "feed.jsonl"):
        (inputs / bad).unlink()
    assert run(capsys, project, "index", "add", str(inputs))[0] == 0
    code, out, _ = run(capsys, project, "index", "add", str(inputs / "library.json"))
    assert code == 0 and "skipped: " in out and "duplicate" in out
    assert out.splitlines()[-1].startswith("0 added, 1 skipped, 0 rejected")


def test_a_question_only_the_new_article_answers_is_answered_from_it(project, tmp_path):
    config = load_config(project)
    service = QAService.open(config, auto_build=False, progress=False)
    record = tmp_path / "library.jsonl"
    record.write_text(json.dumps(LIBRARY, ensure_ascii=False) + "\n", encoding="utf-8")
    assert add_inputs(config, [str(record)], device="cpu", progress=False) == 0
    assert service.is_stale() and service.reload()  # the running service picks up the new generation
    answer = service.answer(NEW_QUESTION)
    assert not answer.abstained
    quote = answer.quotes[0]
    assert "四十二万册" in quote.text
    assert (quote.title, quote.source, quote.date, quote.url) == (
        LIBRARY["title"], "西宁晚报", "2025-07-01", LIBRARY["url"])


def test_urls_from_a_local_server(capsys, project, tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "gbk.html").write_bytes(html("兰州新增家庭医生团队", GBK_BODY, "gb2312", "2025-06-20").encode("gbk"))
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 0.3)
    config = load_config(project)
    with serve_folder(site) as base:
        code, out, _ = run(capsys, project, "index", "add",
                           f"{base}/gbk.html", f"{base}/missing.html", f"{base}/slow")
    assert code == 1
    assert f"added: {base}/gbk.html: " in out
    assert f"rejected: {base}/missing.html: HTTP 404" in out
    assert f"rejected: {base}/slow: timed out after 0.3 s" in out
    article = next(a for a in load_index(config).articles.values() if a.url == f"{base}/gbk.html")
    assert GBK_BODY in article.text
    (stored,) = (config.corpus.dir / "added").glob("*.json")
    assert json.loads(stored.read_text(encoding="utf-8"))["url"] == f"{base}/gbk.html"


def test_model_mismatch_refuses_and_says_to_rebuild(capsys, project, inputs):
    data = yaml.safe_load(project.read_text(encoding="utf-8"))
    data["embedding"] = {"model": "moka-ai/m3e-base"}
    project.write_text(yaml.safe_dump(data), encoding="utf-8")
    live = live_generation(load_config(project))
    code, _, err = run(capsys, project, "index", "add", str(inputs / "library.json"))
    assert code == 2 and "index build --full" in err and "m3e-base" in err
    assert live_generation(load_config(project)) == live
    assert not (project.parent / "corpus" / "added").exists()


@pytest.mark.parametrize("failing", ["_write_jsonl", "os.replace"])
def test_a_writer_dying_midway_leaves_the_old_index_and_is_cleaned_up(project, inputs, monkeypatch, failing):
    config = load_config(project)
    live = live_generation(config)

    def die(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    target = os if failing == "os.replace" else store
    monkeypatch.setattr(target, failing.split(".")[-1], die)
    with pytest.raises(KeyboardInterrupt):
        add_inputs(config, [str(inputs / "library.json")], progress=False)
    monkeypatch.undo()
    assert live_generation(config) == live and len(load_index(config).articles) == 5
    assert add_inputs(config, [str(inputs / "library.json")], progress=False) == 0
    assert not list(config.index.dir.glob(".staging-*"))
    assert len(list((config.corpus.dir / "added").glob("*library*"))) == 1


def test_sigkill_during_add_and_a_concurrent_writer(project, inputs):
    config = load_config(project)
    live = live_generation(config)
    for bad in ("empty.txt", "blob.html", "huge.txt", "escape.txt"):
        (inputs / bad).unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(project), "index", "add", str(inputs)],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = config.index.dir / ".lock"
        while child.poll() is None and lock.read_text().strip() != str(child.pid):
            time.sleep(0.01)
        assert child.poll() is None, "the writer finished before it could be killed"
        with pytest.raises(IndexLockedError, match="another command is writing the index"):
            add_inputs(config, [str(inputs / "library.json")], progress=False)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert live_generation(config) == live
    answer = QAService.open(config, auto_build=False, progress=False).answer(OLD_QUESTION)
    assert "200余名科室接班人" in answer.quotes[0].text
    with index_lock(config):  # the OS released the killed writer's lock
        pass
    assert add_inputs(config, [str(inputs)], progress=False) == 1
    assert len(load_index(config).articles) == 10


def test_remove_drops_the_article_its_copies_and_its_corpus_file(capsys, project, inputs):
    config = load_config(project)
    add_inputs(config, [str(inputs / "copy.html"), str(inputs / "library.json")], progress=False)
    library_id = next(a.id for a in load_index(config).articles.values() if a.title == LIBRARY["title"])
    code, out, _ = run(capsys, project, "index", "remove", library_id, "3c4a425fd8bc", "nope")
    assert code == 1
    assert f"removed: {library_id} 《{LIBRARY['title']}》" in out and "not found: nope" in out
    data = load_index(config)
    assert library_id not in data.articles and "3c4a425fd8bc" not in data.articles
    assert {p.article_id for p in data.passages} == set(data.articles)
    assert not list((config.corpus.dir / "added").iterdir())
    assert not (config.corpus.dir / SEED.name).exists()
    assert len(list(SEEDS.glob("*.txt"))) == 5  # the bundled seeds themselves are untouched
    assert {a.id for a in rebuild(config, progress=False).articles.values()} == set(data.articles)

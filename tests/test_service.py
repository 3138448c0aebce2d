"""The shared QAService answers from one loaded index and swaps to a rebuilt one without a restart."""

from __future__ import annotations

import shutil

from bot.config import load_config
from bot.service import QAService, rebuild

NEW_PAGE = """首页 | 新闻 | 健康
某县试点“移动巡诊车”进村入户
发布时间：2025-08-01 09:00  来源：测试日报
本报讯 某县卫健局介绍，今年以来全县共投入移动巡诊车17辆，每月进村巡诊一次，累计服务村民3.2万人次。
巡诊车配备心电图机和便携超声，乡村医生可通过车载设备与县医院专家开展远程会诊。
"""


def test_reload_swaps_to_a_rebuilt_index_and_keeps_answering(make_config):
    config = load_config(make_config())
    service = QAService.open(config, progress=False)
    question = "移动巡诊车一共投入了多少辆？"
    assert service.answer(question).abstained
    assert not service.is_stale() and not service.reload()

    old_retriever = service.retriever
    (config.corpus.dir / "new.txt").write_text(NEW_PAGE, encoding="utf-8")
    rebuild(config, service.embedder, progress=False)
    assert service.is_stale()
    assert service.reload()
    answer = service.answer(question)
    assert not answer.abstained and "17辆" in answer.quotes[0].text
    assert answer.quotes[0].source == "测试日报" and answer.quotes[0].date == "2025-08-01"
    # a question already holding the old retriever still answers from the old index
    assert len(old_retriever.data.articles) == 5 and len(service.retriever.data.articles) == 6


def test_open_builds_when_missing(make_config):
    config = load_config(make_config())
    shutil.rmtree(config.index.dir, ignore_errors=True)
    service = QAService.open(config, progress=False)
    assert service.manifest["articles"] == 5 and (config.index.dir / "current").exists()

"""The cleaner turns the dirty seed pages (and unseen pages like them) into articles with correct metadata."""

from __future__ import annotations

import re

import pytest

from bot.clean import NoArticleError, clean_page, parse_date, strip_pinyin
from bot.script import to_simplified
from tests.conftest import SEEDS

EXPECTED = {
    "000": ("青海多舉措持續提升醫療服務能力 群眾就醫更便捷", "2025-11-01", "青海新聞網", "陳郁"),
    "001": ("江蘇深化醫療援青結碩果 精準幫扶助力青海健康事業邁上新臺階", "2025-06-20", "青海新聞網", "包拓業"),
    "002": ("我国持续推进优质医疗资源扩容下沉和区域均衡布局", "2023-04-14", "人民网", None),
    # The 渭南 page names no outlet ("本報渭南報道"), so the source is honestly unknown.
    "003": ("玉溪推動優質醫療資源下沉基層", "2025-04-18", "玉溪日報", "黃思敏"),
    "004": ("渭南:打造“小病不出鄉,大病不出縣”的醫療服務體系", "2023-09-20", None, "李文斌"),
}

DIRT = {
    "menu": re.compile(r"首[页頁]\s+(国内|國內)|设为首页|站内检索|您(当前|當前|现在)"),
    "recommended lists": re.compile(r"推[荐薦]阅读|推薦閱讀|24H|热点图片|熱點圖片|网罗天下"),
    "prev/next": re.compile(r"上一篇|下一篇|返回列表"),
    "disclaimer": re.compile(r"声明|聲明|不代表本网观点"),
    "copyright/ICP": re.compile(r"版权所有|版權所有|ICP|公网安备|公網安備|Copyright", re.I),
    "email/phone": re.compile(r"E-?mail|@|電話|电话", re.I),
    "photo file names": re.compile(r"微信[图圖]片_|\.jpg", re.I),
    "SEO spam": re.compile(r"精品|无码|無碼|人妻|久久|\|"),
    "HTML residue": re.compile(r"<[^>]+>|&[a-z]+;"),
    "pinyin": re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)"),
    "share card": re.compile(r"二维码|二維碼|長按識別|长按识别|主流媒體"),
}


@pytest.fixture(scope="module")
def seeds():
    return {p.name[:3]: (p.read_text(encoding="utf-8"), clean_page(p.read_text(encoding="utf-8"))) for p in
            sorted(SEEDS.glob("*.txt"))}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_seed_metadata(seeds, key):
    _, article = seeds[key]
    assert (article.title, article.date, article.source, article.author) == EXPECTED[key]


@pytest.mark.parametrize("dirt", sorted(DIRT))
def test_no_dirt_left_in_any_article(seeds, dirt):
    for key, (_, article) in seeds.items():
        assert not DIRT[dirt].search(article.text), f"{dirt} left in {key}: {DIRT[dirt].search(article.text)[0]}"


def test_body_printed_twice_is_kept_once(seeds):
    raw, article = seeds["000"]
    sentence = "緊密型縣域醫共體建設全面推進。"
    assert strip_pinyin(raw).count(sentence) == 2
    assert article.text.count(sentence) == 1
    assert len(article.body) == 5


def test_every_article_sentence_is_kept(seeds):
    _, article = seeds["004"]
    assert article.text.startswith("本報渭南報道(記者 李文斌)9月19日上午")
    assert article.text.endswith("有力推動各項重點工作任務落細落實。")
    assert "9家醫院納入國家“千縣工程”名單" in article.text
    _, people = seeds["002"]
    assert "对口帮扶效果如何?87.7%县医院达到二级医院能力" in people.body  # a sub-heading inside the body
    assert "4月13日举行的国家卫生健康委新闻发布会现场。新华社记者 董瑞丰 摄" in people.body  # a real caption


def test_original_script_is_kept_and_chinese_parentheses_stay(seeds):
    _, article = seeds["001"]
    assert "執業(助理)醫師達3.86人" in article.text
    _, article = seeds["000"]
    assert "國家區域醫療中心" in article.text and "中(藏)醫藥服務" in article.text


def test_pinyin_is_removed_after_characters():
    assert strip_pinyin("國(guó)內(nèi)新聞 執業(助理)醫師") == "國內新聞 執業(助理)醫師"


def test_a_character_lost_to_a_mangled_annotation_is_restored_when_certain():
    assert strip_pinyin("轉自:玉溪日?qǐng)?bào)") == "轉自:玉溪日報"


def test_ids_are_stable_and_independent_of_file_position(seeds):
    _, first = seeds["003"]
    again = clean_page((SEEDS / "003_0186cf99c409f6f3.txt").read_text(encoding="utf-8"))
    assert first.id == again.id
    assert len({a.id for _, a in seeds.values()}) == 5


UNSEEN_PAGE = """<div class="nav">首页 | 要闻 | 财经 | 健康 | 科技 | 教育</div>
当前位置：首页 > 健康频道 > 正文
<h1>云南试点“县乡一体”远程心电诊断</h1>
2024年3月5日 08:12  来源：云南日报  作者：记者 张三
<p>本报讯（记者 张三）3月4日，云南省卫生健康委介绍，全省已有86个县(市、区)接入远程心(xīn)电诊断平台。</p>
<p>据介绍，乡镇卫生院采集心电图后上传至县级医院，专家在15分钟内出具诊断报告，去年累计完成远程诊断12.6万例。</p>
<p>下一步，云南将推动平台向村卫生室延伸，让群众在家门口就能做心电检查。</p>
微信图片_20240305081200.jpg
本报讯（记者 张三）3月4日，云南省卫生健康委介绍，全省已有86个县(市、区)接入远程心电诊断平台。
据介绍，乡镇卫生院采集心电图后上传至县级医院，专家在15分钟内出具诊断报告，去年累计完成远程诊断12.6万例。
下一步，云南将推动平台向村卫生室延伸，让群众在家门口就能做心电检查。
相关阅读
云南：多地开展义诊活动
责任编辑：李四
免费在线观看 | 精品视频 | 无码高清 | 国产福利 | 午夜剧场
Copyright © 2024 某某网 版权所有 滇ICP备12345678号
"""


def test_unseen_page_is_cleaned_by_the_same_rules():
    article = clean_page(UNSEEN_PAGE, url="http://example.test/a.html")
    assert article.title == "云南试点“县乡一体”远程心电诊断"
    assert (article.date, article.source, article.author) == ("2024-03-05", "云南日报", "张三")
    assert article.url == "http://example.test/a.html"
    assert len(article.body) == 3
    assert "86个县(市、区)接入远程心电诊断平台" in article.text
    for dirt in DIRT.values():
        assert not dirt.search(article.text)


def test_page_without_article_is_rejected():
    with pytest.raises(NoArticleError):
        clean_page("首页 | 新闻 | 财经\n精品视频 | 无码高清 | 国产福利 | 午夜剧场\n版权所有 ICP备123号")


@pytest.mark.parametrize(
    "text, expected",
    [("2025-06-20 08:30", "2025-06-20"), ("2025年6月2日", "2025-06-02"), ("2024/3/5", "2024-03-05"),
     ("2025-13-40", None), ("no date", None)],
)
def test_dates_in_common_forms(text, expected):
    assert parse_date(text) == expected


def test_traditional_and_simplified_pages_of_one_story_share_an_id():
    simplified = clean_page(to_simplified(UNSEEN_PAGE))
    assert simplified.id == clean_page(UNSEEN_PAGE).id

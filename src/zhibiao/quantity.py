"""Parse the text of a ``QUANTITY`` span into a number, a unit and a normalised value.

:func:`parse_quantity` takes the text of one quantity span as it stands in a report (simplified
or traditional, half- or full-width, with stray spaces or pinyin artefacts) and returns a
:class:`Quantity`. :func:`parse_number` parses a bare numeral. Both compute with
:class:`~decimal.Decimal` and convert to ``float`` only at the end, so ``107.1564万元`` gives
``normalized_value == 1071564.0`` exactly. Anything that cannot be read with confidence raises
:class:`~zhibiao.errors.QuantityParseError` (``cannot parse quantity '...': <cause>``) rather
than yielding a wrong number.

Grammar (after normalisation)::

    quantity := PREFIX? ( 百分之 term (SEP 百分之? term)? | term (SEP term)? ) POST?
    term     := number MULT? INFIX? MULT? UNIT?          (at most one MULT)
    UNIT     := base-unit ( "/" denominator ( [/·] denominator )* )?

Rules and decisions
-------------------
* **Normalisation first.** The text goes through :func:`zhibiao.normalize.normalize` (full-width
  folding, pinyin artefacts such as ``萬(wàn)`` removed, traditional -> simplified), ASCII is
  lower-cased and whitespace is dropped. Whitespace *between two digits* is read as a thousands
  separator (``1 605人`` -> 1605), so it must be followed by a group of three digits.
* **Numbers.** Arabic with decimals and ``,`` thousands groups (groups are checked: ``1,23``
  raises); Chinese numerals, ``大写`` (壹贰叁…拾佰仟) included, with 零/〇, 两, 点 (三点五 = 3.5),
  a leading 十/百/千 meaning one of it (十五 = 15, 百余 = 100余) and the colloquial abbreviation
  of a trailing digit (一百二 = 120, 两万三 = 23000). Runs of bare Chinese digits (一二三) raise.
* **Multipliers** 十 百 千 万 十万 百万 千万 亿 十亿 百亿 千亿 万亿 after Arabic digits belong to the
  unit: ``3.5万人`` -> value 3.5, unit ``万人``, normalised 35000 人. A Chinese numeral that ends
  in 万 or 亿 gives that character to the unit: ``三千五百万元`` -> 3500 ``万元``; ``三亿五千万元``
  -> 35000 ``万元``. Mixed chains need a multiplier on every part (``2亿3000万元`` -> 23000
  ``万元``); ``13万2`` raises: it could be the colloquial 132000 or a garbled ``13万元2…``. (The
  pure-Chinese ``十三万二`` is unambiguous and gives 132000.) A multiplier with no unit is kept
  as the unit (``二十一万`` -> 21 ``万``, normalised 210000, ``normalized_unit`` None).
* **Units** come from a fixed table (``BASE_UNITS``); a unit that starts with a numeral character
  (千瓦, 千米, 百分点) wins over a multiplier after Arabic digits (``5千瓦`` is 5 千瓦). After a
  Chinese numeral the longest numeral is taken (``五千瓦`` -> 5000 瓦, i.e. 5 千瓦 normalised).
  ``unit`` is the unit *as written*: the original characters of the multiplier and unit (so
  traditional ``萬元`` stays ``萬元`` and ``％`` stays ``％``), with whitespace and pinyin
  artefacts dropped. ``normalized_unit`` is always the simplified base unit.
* **Normalisation table** (unit -> base × factor): 元; 亩; 米 (公里/千米 ×1000, 厘米 ×0.01);
  平方米 (平方公里 ×1e6, 公顷 ×1e4); 立方米 (方); 千瓦 (kW ×1, 兆瓦/MW ×1000, 瓦 ×0.001);
  千瓦时 (kWh, 度); 吨 (公斤/千克/kg ×0.001, 斤 ×0.0005, 克 ×1e-6); 人 (名, 位); 户; 人次;
  户次; 口 stays 口 (it counts people *and* wells); % (``百分之…`` too); ``成`` -> ``%`` ×10
  (八成 = value 8, unit 成, normalised 80 %); 个百分点 -> 百分点; 个村 -> 村; 个月 -> 月;
  个小时 -> 小时; every other count word (个 条 项 所 家 …) normalises to itself. Households,
  persons and person-times stay distinct.
* **Rates**: ``300元/亩`` -> unit ``元/亩``; the numerator is normalised, the denominator kept
  (``0.5万元/户`` -> 5000 ``元/户``; ``元/人·年`` works).
* **Approximation** markers glued to the quantity set ``approximate``: before the number 约 大约
  近 将近 接近 超 超过 逾 不足 不到; between number and unit 余 多; after the unit 以上 以下 以内
  左右 上下 多 余. ``value`` is the number itself (``3000余亩`` -> 3000).
* **Ranges** ``a SEP b`` with SEP in 至 到 - — – ― − ~ 〜 ——: ``value`` is the low end expressed
  in the unit of the high end, ``value_max`` the high end. A low end without unit or with only
  a multiplier shares the high end's unit (``5—7万元``, ``5万—7万元`` -> 5..7 万元); a low end
  with its own unit must measure the same thing (``850米至1950米``). A low end above the high
  end raises.
* **Errors**: empty text, no number (几万元, 数十户, 第一批), an unknown unit, text after the
  unit (``3541.07万元2.3``), malformed numerals and bad thousands groups all raise.

Module constants ``NUMBER_PATTERN``, ``MULTIPLIER_PATTERN``, ``UNIT_PATTERN``,
``APPROX_PREFIX_PATTERN``, ``APPROX_SUFFIX_PATTERN``, ``RANGE_SEP_PATTERN`` and
``QUANTITY_PATTERN`` are compiled patterns (non-capturing groups only; embed them with
``.pattern``) that match the *original* text, traditional and full-width forms included, for
use by a rule-based span finder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext

from .errors import QuantityParseError
from .normalize import normalize

__all__ = [
    "may_hold_quantity",
    "Quantity",
    "parse_quantity",
    "parse_number",
    "BASE_UNITS",
    "MULTIPLIERS",
    "NUMBER_PATTERN",
    "MULTIPLIER_PATTERN",
    "UNIT_PATTERN",
    "APPROX_PREFIX_PATTERN",
    "APPROX_SUFFIX_PATTERN",
    "RANGE_SEP_PATTERN",
    "QUANTITY_PATTERN",
]


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity. See the module docstring for the rules."""

    value: float  # the number as written (31.1 for 31.1万元; the low end of a range)
    unit: str | None  # the unit as written (万元, 户, 人次, %, 元/亩 ...); None for a bare number
    normalized_value: float | None  # the value in the base unit (311000.0 for 31.1万元)
    normalized_unit: str | None  # the simplified base unit (元, 户, 人, 人次, 亩, 米, % ...)
    approximate: bool  # 余, 多, 近, 约, 超, 逾, 以上, 左右 ... glued to the quantity
    value_max: float | None = None  # the high end of a range
    normalized_value_max: float | None = None


# --------------------------------------------------------------------------- tables

_D = Decimal

#: multiplier (simplified) -> power of ten; after Arabic digits they belong to the unit
MULTIPLIERS: dict[str, int] = {
    "十": 1, "百": 2, "千": 3, "万": 4, "十万": 5, "百万": 6, "千万": 7,
    "亿": 8, "十亿": 9, "百亿": 10, "千亿": 11, "万亿": 12,
}


def _units() -> dict[str, tuple[str, Decimal]]:
    table: dict[str, tuple[str, Decimal]] = {}

    def add(base: str, factor: str | int, *keys: str) -> None:
        for key in keys:
            table[key] = (base, _D(factor))

    add("元", 1, "元", "圆")
    add("亩", 1, "亩")
    add("平方米", 1, "平方米", "平米", "㎡", "m2", "m²")
    add("平方米", "1E+6", "平方公里", "平方千米", "km2", "km²")
    add("平方米", "1E+4", "公顷")
    add("米", 1, "米", "延米", "m")
    add("米", 1000, "公里", "千米", "km")
    add("米", "0.01", "厘米")
    add("立方米", 1, "立方米", "立方", "方", "m3", "m³")
    add("千瓦", 1, "千瓦", "kw")
    add("千瓦", 1000, "兆瓦", "mw")
    add("千瓦", "0.001", "瓦")
    add("千瓦时", 1, "千瓦时", "kwh", "度")
    add("吨", 1, "吨")
    add("吨", "0.001", "公斤", "千克", "kg")
    add("吨", "0.0005", "斤")
    add("吨", "0.000001", "克")
    add("人", 1, "人", "名", "位")
    add("%", 1, "%")
    add("‰", 1, "‰")
    add("%", 10, "成")
    add("百分点", 1, "百分点", "个百分点")
    add("村", 1, "村", "个村")
    add("月", 1, "月", "个月")
    add("小时", 1, "小时", "个小时")
    for word in (
        "户 人次 户次 口 个 条 项 所 家 座 套 台 批 支 场 份 间 辆 头 只 处 期 篇 本 张 块 栋 眼 "
        "次 倍 棵 株 匹 羽 件 部 架 艘 根 把 颗 箱 袋 册 首 幅 幢 盏 组 队 届 轮 班 宗 笔 单 门 "
        "车次 架次 课时 学时 年 天 周 季度 吨公里 棒 趟 尾 亩次 台次 人日 工日"
    ).split():
        add(word, 1, word)
    return table


#: unit (simplified, ASCII lower-case) -> (normalised base unit, factor)
BASE_UNITS: dict[str, tuple[str, Decimal]] = _units()
#: words allowed after the '/' of a rate (元/亩, 元/人·年, 元/月)
_DENOMINATORS = sorted(set(BASE_UNITS) | {"年", "月", "日", "天", "周", "季", "季度", "小时", "学期"},
                       key=lambda k: (-len(k), k))

_CN_DIGIT = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "参": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
_CN_SMALL = {"十": 1, "拾": 1, "百": 2, "佰": 2, "千": 3, "仟": 3}
_CN_BIG = {"万": 4, "亿": 8}
_CN_CHARS = "".join(_CN_DIGIT) + "".join(_CN_SMALL) + "".join(_CN_BIG)
_CN_FRAC_DIGITS = "".join(k for k in _CN_DIGIT if k != "两")

_PREFIXES = ("大约", "将近", "接近", "超过", "不足", "不到", "约", "近", "超", "逾")
_INFIXES = ("余", "多")
_POSTFIXES = ("以上", "以下", "以内", "左右", "上下", "多", "余")
_RANGE_SEPS = ("——", "--", "至", "到", "-", "—", "–", "―", "−", "~", "〜")


def _alternation(words: list[str] | tuple[str, ...] | set[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=lambda k: (-len(k), k)))


# patterns over the normalised (simplified, folded, lower-cased, space-free) text
_ARABIC_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![0-9])|[0-9]+(?:\.[0-9]+)?")
_CN_RE = re.compile(rf"[{_CN_CHARS}]+(?:点[{_CN_FRAC_DIGITS}]+[万亿]*)?")
_MULT_RE = re.compile(_alternation(list(MULTIPLIERS)))
_BASE_RE = re.compile(_alternation(list(BASE_UNITS)))
_DENOM_RE = re.compile(_alternation(_DENOMINATORS))
_PREFIX_RE = re.compile(_alternation(_PREFIXES))
_INFIX_RE = re.compile(_alternation(_INFIXES))
_POST_RE = re.compile(_alternation(_POSTFIXES))
_SEP_RE = re.compile(_alternation(_RANGE_SEPS))
_PERCENT_WORD = "百分之"
_DIGITS = frozenset("0123456789")


# --------------------------------------------------------------- raw-text patterns

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
_RAW_CN_CHARS = "".join(sorted(set(_CN_CHARS) | set("萬億兩貳參叄陸")))
_RAW_CN = rf"[{_RAW_CN_CHARS}]+(?:[点點][{_CN_FRAC_DIGITS}]+[万萬亿億]*)?"

#: an Arabic (half- or full-width) or Chinese numeral, multipliers inside Chinese numerals included
NUMBER_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_RAW_ARABIC})|(?:{_RAW_CN})")
#: a multiplier written after Arabic digits (万, 亿, 千万 ...)
MULTIPLIER_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(MULTIPLIERS)})")
_RAW_BASE = _raw_alternation(BASE_UNITS)
_RAW_DENOM = _raw_alternation(_DENOMINATORS)
#: a unit: optional multiplier, a known unit, optional rate denominators (万元, 户, 元/亩, 元/人·年)
UNIT_PATTERN: re.Pattern[str] = re.compile(
    rf"(?:(?:{MULTIPLIER_PATTERN.pattern})?(?:{_RAW_BASE})"
    rf"(?:[/／](?:{_RAW_DENOM})(?:[/／·・•](?:{_RAW_DENOM}))*)?)"
)
#: approximation markers written before the number (近, 约, 超, 逾 ...)
APPROX_PREFIX_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(_PREFIXES)})")
#: approximation markers written after the number or the unit (余, 多, 以上, 左右 ...)
APPROX_SUFFIX_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(set(_INFIXES) | set(_POSTFIXES))})")
#: the separator of a range (至, 到, -, —, ~ ...)
RANGE_SEP_PATTERN: re.Pattern[str] = re.compile(rf"(?:{_raw_alternation(_RANGE_SEPS)}|[－～])")
_RAW_INFIX = _raw_alternation(_INFIXES)
_RAW_POST = _raw_alternation(_POSTFIXES)
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


# --------------------------------------------------------------------------- parsing


class _CnError(Exception):
    """A Chinese numeral is malformed (the cause)."""


def _cn_integer(s: str) -> Decimal:
    """Value of a Chinese integer numeral (no 点). Raises :class:`_CnError`."""
    if not s:
        raise _CnError("empty Chinese numeral")
    result = _D(0)  # everything up to and including the last 亿
    wan = _D(0)  # the part multiplied by 万 in the current 亿 group
    section = _D(0)  # the part below 万
    digit: int | None = None
    last_small: int | None = None  # exponent of the last 十/百/千 in this section
    prev_unit: int | None = None  # exponent of the unit character right before the pending digit
    zero = False
    seen_wan = seen_yi = False
    for i, ch in enumerate(s):
        if ch in _CN_DIGIT:
            value = _CN_DIGIT[ch]
            if value == 0:
                if digit is not None:
                    raise _CnError(f"digit before {ch!r} (positional numerals are not supported)")
                zero = True
                prev_unit = None
                continue
            if digit is not None:
                raise _CnError("two digits in a row (positional numerals are not supported)")
            digit = value
            continue
        elif ch in _CN_SMALL:
            exp = _CN_SMALL[ch]
            if digit is None:
                if i == 0 or exp == 1:
                    digit = 1  # 十五, 百余, 千余
                else:
                    raise _CnError(f"{ch!r} without a digit before it")
            if last_small is not None and exp >= last_small:
                raise _CnError(f"{ch!r} after a smaller or equal unit")
            section += digit * _D(10) ** exp
            last_small, prev_unit, digit, zero = exp, exp, None, False
        else:  # 万 / 亿
            exp = _CN_BIG[ch]
            part = section + (digit or 0)
            if exp == 4:
                if seen_wan:
                    raise _CnError("万 twice in one group")
                if part == 0:
                    raise _CnError("万 without a number before it")
                wan = part * _D(10) ** 4
                seen_wan = True
            else:
                if seen_yi:
                    raise _CnError("亿 twice")
                before = result + wan + part
                if before == 0:
                    raise _CnError("亿 without a number before it")
                result = before * _D(10) ** 8
                wan, seen_wan, seen_yi = _D(0), False, True
            section, digit, last_small, prev_unit, zero = _D(0), None, None, exp, False
    tail = _D(0)
    if digit is not None:
        # 一百二 = 120, 两万三 = 23000: a digit right after a unit (no 零) is one place lower
        tail = digit * _D(10) ** (prev_unit - 1) if prev_unit else _D(digit)
    return result + wan + section + tail


def _cn_number(run: str) -> Decimal:
    """Value of a Chinese numeral run matched by ``_CN_RE`` (点 and a trailing 万/亿 allowed)."""
    if "点" not in run:
        return _cn_integer(run)
    int_part, frac = run.split("点", 1)
    exp = 0
    while frac and frac[-1] in _CN_BIG:
        exp += _CN_BIG[frac[-1]]
        frac = frac[:-1]
    if any(ch in _CN_BIG for ch in int_part) and exp:
        raise _CnError("multiplier on both sides of 点")
    whole = _cn_integer(int_part)
    digits = "".join(str(_CN_DIGIT[ch]) for ch in frac)
    return (whole + _D("0." + digits)).scaleb(exp)


@dataclass
class _Num:
    total: Decimal  # the full number, every multiplier applied
    mult_exp: int  # the multiplier that belongs to the unit (0: none)
    mult_pos: list[int]  # positions of that multiplier


@dataclass
class _Unit:
    base: str  # normalised unit, denominators included
    factor: Decimal
    pos: list[int]  # positions of the unit characters (and rate denominators)


def _prepare(text: str) -> tuple[str, list[str]]:
    """Normalised, space-free, lower-cased text and the original character of each position."""
    norm = normalize(text)
    s = norm.text
    chars: list[str] = []
    origs: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch.isspace():
            j = i
            while j < len(s) and s[j].isspace():
                j += 1
            if chars and chars[-1] in _DIGITS and j < len(s) and s[j] in _DIGITS:
                chars.append(",")  # 1 605 -> 1,605 (the group is checked later)
                origs.append(" ")
            i = j
            continue
        chars.append(ch.lower() if ch.isascii() else ch)
        origs.append(text[norm.index[i]])
        i += 1
    return "".join(chars), origs


class _Parser:
    def __init__(self, text: str, what: str = "quantity") -> None:
        if not isinstance(text, str):
            raise QuantityParseError(f"cannot parse {what} {text!r}: expected str, got {type(text).__name__}")
        self.text = text
        self.what = what
        self.s, self.orig = _prepare(text)
        self.pos = 0

    # -- helpers
    def fail(self, cause: str) -> QuantityParseError:
        return QuantityParseError(f"cannot parse {self.what} {self.text!r}: {cause}")

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        m = pattern.match(self.s, self.pos)
        if m:
            self.pos = m.end()
        return m

    def rest(self) -> str:
        """The rest of the text from the cursor, as written (for messages)."""
        return "".join(self.orig[self.pos:])

    def at_end(self) -> bool:
        return self.pos >= len(self.s)

    # -- numbers
    def number(self) -> _Num:
        if self.at_end():
            raise self.fail("no number" if self.s else "empty text")
        ch = self.s[self.pos]
        if ch in _DIGITS:
            return self.arabic()
        if ch in _CN_BIG:
            raise self.fail(f"no number before {self.rest()!r}")
        if ch in _CN_CHARS:
            return self.chinese()
        raise self.fail(
            f"no number at {self.rest()!r} (a vague amount such as 几万元 or 数十户 is not a quantity)"
        )

    def multiplier_here(self) -> tuple[int, list[int]] | None:
        """A multiplier at the cursor, unless a unit starting with one (千瓦, 百分点) is there."""
        if _BASE_RE.match(self.s, self.pos):
            return None
        start = self.pos
        m = self.take(_MULT_RE)
        if not m:
            return None
        return MULTIPLIERS[m.group()], list(range(start, m.end()))

    def arabic(self) -> _Num:
        m = self.take(_ARABIC_RE)
        assert m is not None
        total = _D(m.group().replace(",", ""))
        mult = self.multiplier_here()
        if mult is None:
            return _Num(total, 0, [])
        last_exp, last_pos = mult
        total = total.scaleb(last_exp)
        links = 1
        while not self.at_end() and self.s[self.pos] in _DIGITS:
            m = self.take(_ARABIC_RE)
            assert m is not None
            part = _D(m.group().replace(",", ""))
            nxt = self.multiplier_here()
            if nxt is None or nxt[0] >= last_exp:
                raise self.fail(
                    f"digits {m.group()!r} after a multiplier without a smaller multiplier of their own "
                    "(ambiguous: 13万2 may mean 132000 or be a garbled 13万元2…)"
                )
            last_exp, last_pos = nxt
            total += part.scaleb(last_exp)
            links += 1
        if links == 1 or last_exp in (4, 8, 12):
            return _Num(total, last_exp, last_pos)
        return _Num(total, 0, [])

    def continues_here(self, pos: int) -> bool:
        """Whether what follows a number at ``pos`` can continue a quantity."""
        if pos >= len(self.s) or self.s[pos] == "/":
            return True
        return any(p.match(self.s, pos) for p in (_BASE_RE, _MULT_RE, _INFIX_RE, _POST_RE, _SEP_RE))

    def chinese(self) -> _Num:
        start = self.pos
        m = _CN_RE.match(self.s, start)
        assert m is not None
        run = m.group()
        candidates = [run]
        # 五十千瓦, 三百分点: the last numeral character may begin the unit
        if len(run) > 1 and "点" not in run and _BASE_RE.match(self.s, start + len(run) - 1):
            candidates.append(run[:-1])
        error: str | None = None
        for k, cand in enumerate(candidates):
            try:
                total = _cn_number(cand)
            except _CnError as exc:
                error = error or f"malformed Chinese numeral {run!r}: {exc}"
                continue
            end = start + len(cand)
            if k + 1 < len(candidates) and not self.continues_here(end):
                continue
            self.pos = end
            if cand[-1] in _CN_BIG:
                exp = _CN_BIG[cand[-1]]
                return _Num(total, exp, [end - 1])
            return _Num(total, 0, [])
        raise self.fail(error or f"malformed Chinese numeral {run!r}")

    # -- units
    def unit(self) -> _Unit | None:
        start = self.pos
        m = self.take(_BASE_RE)
        if not m:
            return None
        base, factor = BASE_UNITS[m.group()]
        pos = list(range(start, m.end()))
        seps = "/"
        while not self.at_end() and self.s[self.pos] in seps:
            sep = self.s[self.pos]
            d = _DENOM_RE.match(self.s, self.pos + 1)
            if not d:
                raise self.fail(f"unknown unit after {sep!r} in {self.rest()!r}")
            pos.extend(range(self.pos, d.end()))
            base += sep + d.group()
            self.pos = d.end()
            seps = "/·•・"
        return _Unit(base, factor, pos)

    def surface(self, positions: list[int]) -> str:
        return "".join(self.orig[p] for p in positions)

    # -- terms
    def term(self, percent: bool) -> tuple[_Num, bool, _Unit | None]:
        """``number MULT? INFIX? MULT? UNIT?``; returns the number, approximate flag and unit."""
        num = self.number()
        approx = bool(self.take(_INFIX_RE))
        if approx and num.mult_exp == 0:
            mult = self.multiplier_here()
            if mult is not None:
                num.total = num.total.scaleb(mult[0])
                num.mult_exp, num.mult_pos = mult
        unit = None if percent else self.unit()
        return num, approx, unit


def _to_float(d: Decimal) -> float:
    return float(d) + 0.0  # + 0.0 turns -0.0 into 0.0


def parse_quantity(text: str) -> Quantity:
    """Parse the text of a ``QUANTITY`` span. See the module docstring for the rules.

    >>> parse_quantity("31.1万元")
    Quantity(value=31.1, unit='万元', normalized_value=311000.0, normalized_unit='元', approximate=False, value_max=None, normalized_value_max=None)
    """
    p = _Parser(text)
    with localcontext() as ctx:
        ctx.prec = 60
        approx = bool(p.take(_PREFIX_RE))
        percent_pos: list[int] | None = None
        if p.s.startswith(_PERCENT_WORD, p.pos):
            percent_pos = list(range(p.pos, p.pos + len(_PERCENT_WORD)))
            p.pos += len(_PERCENT_WORD)
        percent = percent_pos is not None
        low, a1, unit1 = p.term(percent)
        high = None
        unit2 = None
        if p.take(_SEP_RE):
            if percent and p.s.startswith(_PERCENT_WORD, p.pos):
                p.pos += len(_PERCENT_WORD)
            high, a2, unit2 = p.term(percent)
            approx = approx or a2
        approx = approx or a1
        if p.take(_POST_RE):
            approx = True
        if not p.at_end():
            last_unit = unit2 if high is not None else unit1
            if last_unit is None and not percent:
                raise p.fail(f"unknown unit or unexpected text {p.rest()!r} after the number")
            raise p.fail(f"unexpected text {p.rest()!r} after the unit")

        if percent:
            assert percent_pos is not None
            unit = _Unit("%", _D(1), percent_pos)
            unit1 = unit2 = None
            final, final_unit = (high or low), unit
        else:
            final, final_unit = (high, unit2) if high is not None else (low, unit1)
        if high is not None and unit1 is not None and unit2 is None:
            raise p.fail("the low end of the range has a unit but the high end has none")

        # the unit as written and its normalisation
        factor = final_unit.factor if final_unit else _D(1)
        if final_unit is None and final.mult_exp == 0:
            unit_surface, norm_unit = None, None
        else:
            unit_surface = p.surface(final.mult_pos + (final_unit.pos if final_unit else []))
            norm_unit = final_unit.base if final_unit else None

        value = final.total.scaleb(-final.mult_exp)
        normalized = final.total * factor
        if high is None:
            return Quantity(
                value=_to_float(value), unit=unit_surface, normalized_value=_to_float(normalized),
                normalized_unit=norm_unit, approximate=approx,
            )

        # range: express the low end in the high end's unit
        if unit1 is not None:
            assert unit2 is not None
            if unit1.base != unit2.base:
                raise p.fail(f"the ends of the range measure different units ({unit1.base} and {unit2.base})")
            low_norm = low.total * unit1.factor
            low_value = low_norm / factor / _D(10) ** final.mult_exp
        else:
            low_value = low.total.scaleb(-final.mult_exp) if low.mult_exp else low.total
            low_norm = low_value.scaleb(final.mult_exp) * factor
        if low_value > value:
            raise p.fail(f"the low end of the range ({low_value}) exceeds the high end ({value})")
        return Quantity(
            value=_to_float(low_value), unit=unit_surface, normalized_value=_to_float(low_norm),
            normalized_unit=norm_unit, approximate=approx, value_max=_to_float(value),
            normalized_value_max=_to_float(normalized),
        )


def parse_number(text: str) -> Decimal:
    """Parse an Arabic or Chinese numeral (multipliers included) into an exact Decimal.

    ``parse_number("1,234.5") == Decimal("1234.5")``; ``parse_number("两百") == 200``;
    ``parse_number("3.5万") == 35000``; ``parse_number("13万2")`` raises (see the module docstring).
    """
    p = _Parser(text, what="number")
    with localcontext() as ctx:
        ctx.prec = 60
        num = p.number()
        if not p.at_end():
            raise p.fail(f"unexpected text {p.rest()!r} after the number")
        total = num.total
        if total == total.to_integral_value():
            return total.quantize(_D(1))
        return total.normalize()

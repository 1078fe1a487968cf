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

from .parse import Quantity, parse_number, parse_quantity
from .patterns import (APPROX_PREFIX_PATTERN, APPROX_SUFFIX_PATTERN, MULTIPLIER_PATTERN, NUMBER_PATTERN,
                       QUANTITY_PATTERN, RANGE_SEP_PATTERN, UNIT_PATTERN, may_hold_quantity)
from .units import BASE_UNITS, MULTIPLIERS

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

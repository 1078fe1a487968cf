"""The tables of the quantity grammar, in normalised (simplified, lower-case) form: multipliers,
units with their base unit and factor, rate denominators, approximation markers and range
separators. :mod:`.parse` reads normalised text with them; :mod:`.patterns` builds the raw-text
patterns from them."""
from __future__ import annotations

import re
from decimal import Decimal

D = Decimal

#: multiplier (simplified) -> power of ten; after Arabic digits they belong to the unit
MULTIPLIERS: dict[str, int] = {
    "十": 1, "百": 2, "千": 3, "万": 4, "十万": 5, "百万": 6, "千万": 7,
    "亿": 8, "十亿": 9, "百亿": 10, "千亿": 11, "万亿": 12,
}


def _units() -> dict[str, tuple[str, Decimal]]:
    table: dict[str, tuple[str, Decimal]] = {}

    def add(base: str, factor: str | int, *keys: str) -> None:
        for key in keys:
            table[key] = (base, D(factor))

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
DENOMINATORS = sorted(set(BASE_UNITS) | {"年", "月", "日", "天", "周", "季", "季度", "小时", "学期"},
                       key=lambda k: (-len(k), k))

PREFIXES = ("大约", "将近", "接近", "超过", "不足", "不到", "约", "近", "超", "逾")
INFIXES = ("余", "多")
POSTFIXES = ("以上", "以下", "以内", "左右", "上下", "多", "余")
RANGE_SEPS = ("——", "--", "至", "到", "-", "—", "–", "―", "−", "~", "〜")


def alternation(words: list[str] | tuple[str, ...] | set[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=lambda k: (-len(k), k)))


PERCENT_WORD = "百分之"

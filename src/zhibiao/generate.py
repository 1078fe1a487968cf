"""A generator of extra annotated sentences for numeric and unit variety.

Sentences are assembled from templates, the taxonomy's aliases and random figures written in
every way reports write them (Arabic, decimals, thousands separators, Chinese and 大写
numerals, 余/多/近/约/超/逾, ranges, percentages, full-width digits, stray spaces), following
the SPEC's linking rules (status words under a named group, elided indicators, generic nouns
skipped, quantities with no indicator). Its share of the training mix is the config value
``data.generator_share``; ``training/generate.py`` writes a sample to JSONL.
"""
from __future__ import annotations

import random
from decimal import Decimal
from typing import Callable

from .records import INDICATOR, QUANTITY, AnnotatedDocument, Span

CN = "零一二三四五六七八九"
DAXIE = "零壹贰叁肆伍陆柒捌玖"
PLACES = ["青石镇", "柳溪乡", "云岭县", "石门村", "白沙镇", "龙泉乡", "双河村", "桃源镇", "清水县", "长坪乡"]
TIMES = ["2023年", "今年以来", "2022年上半年", "截至2024年6月", "2021年以来", "2019年", "当年", "2025年一季度"]
SCOPES = ["全镇", "全乡", "全县", "我镇", "共", "累计", ""]
STATUS = ["新增", "已消除风险", "未消除风险", "已脱贫", "返贫", "退出", "自然增加", "拟新增", "稳定脱贫"]
ACTIVITIES = ["集中排查", "入户走访", "动态调整", "部门预警", "农户自主申报", "村级摸排", "大排查", "会商研判"]
SOURCES = ["省医保推送", "民政部门推送", "县乡村振兴局反馈", "教育部门比对", "残联推送", "行业部门预警"]
GROUPS = ["监测户", "监测对象", "脱贫户", "防返贫监测对象", "边缘易致贫户", "脱贫不稳定户", "贫困户", "建档立卡贫困户"]
NOISE = ["“两不愁三保障”", "“十四五”", "第一批", "一是", "“四个不摘”", "2023年11月21日"]


def _cn_number(n: int, daxie: bool = False) -> str:
    digits, units = (DAXIE, "拾佰仟") if daxie else (CN, "十百千")
    if n == 0:
        return digits[0]
    if n >= 10000:
        hi, lo = divmod(n, 10000)
        rest = _cn_number(lo, daxie) if lo else ""
        if lo and lo < 1000:
            rest = digits[0] + rest
        return _cn_number(hi, daxie) + "万" + rest
    out, zero = "", False
    for k, u in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        d, n = divmod(n, k)
        if d:
            if zero:
                out += digits[0]
                zero = False
            out += ("两" if d == 2 and u in ("百", "千") and not daxie and not out else digits[d]) + u
        elif out:
            zero = True
    if not daxie and out.startswith("一十"):
        out = out[1:]
    return out


def _figure(rng: random.Random, lo: int, hi: int, decimals: bool = False) -> str:
    style = rng.random()
    n = rng.randint(lo, hi)
    if decimals and rng.random() < 0.6:
        s = str(Decimal(rng.randint(lo * 100, hi * 100)) / 100)
        return s.rstrip("0").rstrip(".") if "." in s else s
    if style < 0.08 and n < 100000:
        return _cn_number(n)
    if style < 0.11 and n < 10000:
        return _cn_number(n, daxie=True)
    if style < 0.16 and n >= 1000:
        return f"{n:,}"
    if style < 0.22:
        return str(n).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    return str(n)


UNIT_CLASSES: dict[str, Callable[[random.Random], list[str]]] = {
    "people": lambda r: [r.choice(["户", "户", "户"]), "人"],
    "money": lambda r: [r.choice(["万元", "万元", "元", "亿元"])],
    "count": lambda r: [r.choice(["个", "个", "处", "座", "条", "项", "所"])],
    "area": lambda r: [r.choice(["亩", "万亩", "平方米", "公里"])],
    "rate": lambda r: ["%"],
    "times": lambda r: [r.choice(["人次", "期", "次", "人"])],
    "jobs": lambda r: [r.choice(["个", "人"])],
}


TYPE_UNITS = {
    "poverty_exited": "people", "monitored": "people", "monitored_unstable": "people", "monitored_marginal": "people",
    "monitored_sudden_hardship": "people", "registered_poor": "people", "relocation": "people",
    "minimum_living": "people", "extreme_poverty_support": "people", "employment": "people",
    "disability_subsidy": "people", "yulu": "times", "education_aid": "times", "training": "times",
    "public_welfare_jobs": "jobs", "travel_subsidy": "money", "industry_subsidy": "money", "microcredit": "money",
    "linkage_fund_projects": "money", "anti_poverty_insurance": "money", "collective_economy": "money",
    "income": "money", "consumption_support": "money", "east_west_cooperation": "money", "ecommerce": "money",
    "pv_station": "count", "drinking_water": "count", "infrastructure": "count", "living_environment": "count",
    "poor_village": "count", "housing_safety": "people", "medical_security": "people", "risk_warning": "count",
    "resident_support": "people", "industry_scale": "area",
}


def unit_class(alias: str, type_id: str | None = None) -> str:
    money_words = ("资金", "补贴", "补助", "奖补", "贷款", "信贷", "基金", "收入", "分红", "投资", "保险", "金额", "收益")
    if any(k in alias for k in money_words):
        return "money"
    if "率" in alias:
        return "rate"
    if type_id in TYPE_UNITS:
        return TYPE_UNITS[type_id]
    if any(k in alias for k in ("资金", "补贴", "补助", "奖补", "贷款", "信贷", "基金", "收入", "分红", "投资", "保险", "金额", "收益")):
        return "money"
    if "率" in alias:
        return "rate"
    if "岗位" in alias or "公岗" in alias:
        return "jobs"
    if any(k in alias for k in ("培训", "签约", "资助", "雨露")):
        return "times"
    if any(k in alias for k in ("面积", "种植", "基地", "道路", "硬化")):
        return "area"
    if any(k in alias for k in ("工程", "设施", "项目", "电站", "车间", "村", "桥", "合作社", "企业")):
        return "count"
    return "people"


def _quantity(rng: random.Random, unit: str) -> str:
    if unit == "%":
        return _figure(rng, 1, 100, decimals=True) + "%"
    big = {"户": (2, 3000), "人": (3, 9000), "元": (500, 900000), "万元": (1, 5000), "亿元": (1, 30), "亩": (10, 8000),
           "万亩": (1, 50), "平方米": (100, 50000), "公里": (1, 300), "人次": (5, 5000)}.get(unit, (1, 300))
    fig = _figure(rng, *big, decimals=unit in ("万元", "亿元", "万亩", "公里"))
    r = rng.random()
    if r < 0.08:
        fig = fig + rng.choice(["余", "多"])
    elif r < 0.14:
        fig = rng.choice(["近", "约", "超", "逾"]) + fig
    elif r < 0.18 and fig.isdigit():
        hi = int(fig) + rng.randint(1, 50)
        fig = f"{fig}{rng.choice(['至', '—', '-', '~'])}{hi}"
    if rng.random() < 0.04:
        fig += " "
    return fig + unit


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.n = 0
        self.entities: list[Span] = []
        self.relations: list[tuple[str, str]] = []

    def text(self, s: str) -> None:
        self.parts.append(s)
        self.n += len(s)

    def span(self, s: str, label: str, indicator_type: str | None = None) -> str:
        eid = str(len(self.entities) + 1)
        self.entities.append(Span(self.n, self.n + len(s), label, s, id=eid, indicator_type=indicator_type))
        self.text(s)
        return eid

    def link(self, q: str, i: str) -> None:
        self.relations.append((q, i))


def _sentence(b: _Builder, rng: random.Random, pick) -> None:
    alias, tid = pick()
    units = UNIT_CLASSES[unit_class(alias, tid)](rng)
    t = rng.random()
    if rng.random() < 0.3:
        b.text(rng.choice(TIMES) + ",")
    if rng.random() < 0.25:  # 监测户94户190人,其中:2023年新增66户127人;5月集中排查新增24户47人 ...
        group = rng.choice(GROUPS)
        i = b.span(group, INDICATOR, None)
        for u in ("户", "人"):
            b.link(b.span(_quantity(rng, u), QUANTITY), i)
        b.text(rng.choice([",其中:", ",其中", ",其中,"]))
        for k in range(rng.randint(1, 3)):
            if k:
                b.text(rng.choice([";", ",", "；"]))
            r = rng.random()
            if r < 0.3:
                b.text(f"{rng.randint(1, 12)}月")
            b.text(rng.choice(["", rng.choice(ACTIVITIES), rng.choice(SOURCES)]))
            b.text(rng.choice(STATUS))
            for u in ("户", "人")[: rng.randint(1, 2)]:
                b.link(b.span(_quantity(rng, u), QUANTITY), i)
        b.text(rng.choice(["。", "。", "\n"]))
        return
    if t < 0.30:  # 全镇脱贫户776户1605人(,其中新增66户127人)
        b.text(rng.choice(SCOPES))
        i = b.span(alias, INDICATOR, tid)
        for u in units:
            b.link(b.span(_quantity(rng, u), QUANTITY), i)
        if rng.random() < 0.5 and units[0] in ("户", "人", "个"):
            b.text(",其中" + rng.choice(STATUS))
            for u in units:
                b.link(b.span(_quantity(rng, u), QUANTITY), i)
    elif t < 0.45:  # 1099户2172人的已脱贫户
        for u in units:
            qid = b.span(_quantity(rng, u), QUANTITY)
            b.relations.append((qid, "?"))
        b.text("的")
        i = b.span(alias, INDICATOR, tid)
        b.relations = [(q, i if d == "?" else d) for q, d in b.relations]
    elif t < 0.58:  # 为35名学生申报雨露计划 (generic noun skipped)
        b.text("为")
        q = b.span(_quantity(rng, rng.choice(["名", "户", "人"])), QUANTITY)
        b.text(rng.choice(["学生", "群众", "脱贫群众", "农户"]) + rng.choice(["申报", "发放", "落实", "办理"]))
        b.link(q, b.span(alias, INDICATOR, tid))
    elif t < 0.72:  # 发放产业奖补资金31.1万元,惠及...
        b.text(rng.choice(["发放", "落实", "兑现", "投入", "完成", "开发"]))
        i = b.span(alias, INDICATOR, tid)
        b.text(rng.choice(["", "共计", "合计", "达"]))
        b.link(b.span(_quantity(rng, units[0]), QUANTITY), i)
        if rng.random() < 0.4:
            alias2, tid2 = pick()
            b.text("、")
            i2 = b.span(alias2, INDICATOR, tid2)
            b.link(b.span(_quantity(rng, UNIT_CLASSES[unit_class(alias2, tid2)](rng)[0]), QUANTITY), i2)
    elif t < 0.84:  # list: A 5个, B 3个, C 2个
        for k in range(rng.randint(2, 4)):
            alias_k, tid_k = (alias, tid) if k == 0 else pick()
            if k:
                b.text(rng.choice(["、", ",", ";"]))
            i = b.span(alias_k, INDICATOR, tid_k)
            b.link(b.span(_quantity(rng, UNIT_CLASSES[unit_class(alias_k, tid_k)](rng)[0]), QUANTITY), i)
    elif t < 0.92:  # a quantity with no indicator in its sentence
        b.text(rng.choice(["完成投资", "覆盖", "惠及群众", "涉及", "辐射带动"]))
        b.span(_quantity(rng, rng.choice(["万元", "人", "户", "个"])), QUANTITY)
    else:  # noise numbers that are not quantities, then a plain pair
        b.text(rng.choice(PLACES) + "严格落实" + rng.choice(NOISE) + "要求,")
        i = b.span(alias, INDICATOR, tid)
        b.link(b.span(_quantity(rng, units[0]), QUANTITY), i)
    b.text(rng.choice(["。", "。", "。", "!", "\n"]))


def generate_documents(n: int, taxonomy, seed: int = 7, sentences: tuple[int, int] = (1, 3)) -> list[AnnotatedDocument]:
    """``n`` generated documents of a few sentences each, annotated per SPEC."""
    rng = random.Random(seed)
    pairs = sorted((a, t) for a, t in taxonomy.aliases().items() if len(a) >= 2)
    if not pairs:
        raise ValueError("the taxonomy has no aliases to generate from")

    def pick() -> tuple[str, str]:
        return rng.choice(pairs)

    docs = []
    for k in range(n):
        b = _Builder()
        for _ in range(rng.randint(*sentences)):
            _sentence(b, rng, pick)
        docs.append(AnnotatedDocument(id=f"gen-{seed}-{k:05d}", text="".join(b.parts), entities=b.entities,
                                      relations=b.relations, meta={"split": "generated"}))
    return docs

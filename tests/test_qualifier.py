"""``Record.qualifier`` (zhibiao.qualifier): SPEC.md's examples and more, table-driven, and the field
on records the shipped model / the rule baseline return."""
from __future__ import annotations

import pytest

from zhibiao.qualifier import qualifier


def _find(sentence: str, text: str, nth: int) -> tuple[int, int]:
    at = -1
    for _ in range(nth + 1):
        at = sentence.index(text, at + 1)
    return at, at + len(text)


def q(sentence: str, quantity: str, indicator: str | None, nth: int = 0, ind_nth: int = 0) -> str | None:
    """The qualifier of the ``nth`` occurrence of ``quantity`` linked to the ``ind_nth`` of ``indicator``."""
    ind = _find(sentence, indicator, ind_nth) if indicator is not None else None
    return qualifier(sentence, _find(sentence, quantity, nth), ind)


DAFO = "截止11月21日,大佛镇脱贫户776户1605人,监测户94户190人,其中:2023年新增66户127人;5月集中排查新增24户47人,10月省医保推送新增2户5人。"
RISK = "监测对象112户,其中已消除风险16户63人"
POOR = "全县贫困人口1000户3000人，2023年310户923人顺利脱贫。"

# (sentence, quantity, nth occurrence, indicator, nth occurrence, expected qualifier)
SPEC_EXAMPLES = [
    # Record.qualifier: 监测户94户190人,其中:2023年新增66户127人 -> null, null, 新增, 新增
    ("监测户94户190人,其中:2023年新增66户127人", "94户", 0, "监测户", 0, None),
    ("监测户94户190人,其中:2023年新增66户127人", "190人", 0, "监测户", 0, None),
    ("监测户94户190人,其中:2023年新增66户127人", "66户", 0, "监测户", 0, "新增"),
    ("监测户94户190人,其中:2023年新增66户127人", "127人", 0, "监测户", 0, "新增"),
    # Relation: 监测对象112户,其中已消除风险16户63人 links 16户 and 63人 to 监测对象; the status qualifies them
    (RISK, "112户", 0, "监测对象", 0, None),
    (RISK, "16户", 0, "监测对象", 0, "已消除风险"),
    (RISK, "63人", 0, "监测对象", 0, "已消除风险"),
    # the status phrase is the indicator where no group is named: the figure counts it
    ("今年实现脱贫393户1924人", "393户", 0, "脱贫", 0, None),
    ("今年实现脱贫393户1924人", "1924人", 0, "脱贫", 0, None),
    # 310户923人顺利脱贫 with 贫困人口 earlier: linked to 贫困人口, a change of that group
    (POOR, "1000户", 0, "贫困人口", 0, None),
    (POOR, "310户", 0, "贫困人口", 0, "脱贫"),
    (POOR, "923人", 0, "贫困人口", 0, "脱贫"),
    # both orders; the group itself
    ("脱贫户776户1605人", "776户", 0, "脱贫户", 0, None),
    ("脱贫户776户1605人", "1605人", 0, "脱贫户", 0, None),
    ("1099户2172人的已脱贫户", "1099户", 0, "已脱贫户", 0, None),
    ("1099户2172人的已脱贫户", "2172人", 0, "已脱贫户", 0, None),
    # the mention rules' examples
    ("脱贫户686人", "686人", 0, "脱贫户", 0, None),
    ("开发公益性岗位15个", "15个", 0, "公益性岗位", 0, None),
    ("61户脱贫户、监测户", "61户", 0, "脱贫户、监测户", 0, None),
    ("脱贫人口务工就业4326人", "4326人", 0, "务工就业", 0, None),
    ("为35名学生申报春季雨露计划", "35名", 0, "雨露计划", 0, None),
    ("109户138人申请交通补贴", "109户", 0, "交通补贴", 0, None),
    ("109户138人申请交通补贴", "138人", 0, "交通补贴", 0, None),
]

MORE_EXAMPLES = [
    # the whole 大佛镇 sentence: every 新增 part, the totals null
    (DAFO, "776户", 0, "脱贫户", 0, None),
    (DAFO, "94户", 0, "监测户", 0, None),
    (DAFO, "190人", 0, "监测户", 0, None),
    (DAFO, "24户", 0, "监测户", 0, "新增"),
    (DAFO, "47人", 0, "监测户", 0, "新增"),
    (DAFO, "2户", 0, "监测户", 0, "新增"),
    (DAFO, "5人", 1, "监测户", 0, "新增"),  # the 5人 of 2户5人 (the first is inside 1605人)
    # a change word before the indicator of its clause
    ("11月第一批拟新增监测户5户9人。", "5户", 0, "监测户", 0, "新增"),
    ("11月第一批拟新增监测户5户9人。", "9人", 0, "监测户", 0, "新增"),
    ("新增公益性岗位6人,公益性岗位达112人。", "6人", 0, "公益性岗位", 0, "新增"),
    ("新增公益性岗位6人,公益性岗位达112人。", "112人", 0, "公益性岗位", 1, None),
    ("尤其是上半年新识别监测对象3户10人。", "3户", 0, "监测对象", 0, "新识别"),
    # a status word right after the figures it governs
    ("脱贫不稳定户1979人:13户已消除风险,6户未消除风险", "13户", 0, "脱贫不稳定户", 0, "已消除风险"),
    ("脱贫不稳定户1979人:13户已消除风险,6户未消除风险", "6户", 0, "脱贫不稳定户", 0, "未消除风险"),
    ("监测户中2户5人返贫。", "2户", 0, "监测户", 0, "返贫"),
    # the closest status word wins; a status phrase linked wrongly still marks the figure
    ("核查发现错退23户81人、返贫57户194人，均已重新纳入帮扶。", "23户", 0, "错退", 0, None),
    ("核查发现错退23户81人、返贫57户194人，均已重新纳入帮扶。", "57户", 0, "错退", 0, "返贫"),
    ("监测对象112户,其中已消除风险16户,未消除风险96户", "96户", 0, "监测对象", 0, "未消除风险"),
    # 累计 is the group's total (null) and ends an earlier status word's reach
    ("今年新增监测对象10户，累计纳入监测对象94户。", "10户", 0, "监测对象", 0, "新增"),
    ("今年新增监测对象10户，累计纳入监测对象94户。", "94户", 0, "监测对象", 1, None),
    ("监测户新增10户、累计94户。", "94户", 0, "监测户", 0, None),
    ("累计识别监测对象94户190人。", "94户", 0, "监测对象", 0, None),
    # 其中 / 含: parts, whatever group they name; up to ；, the bracket's end, or a later total
    ("总户籍人口27718户,62999人,其中脱贫户1099户2172人,监测户297户595人。", "27718户", 0, "总户籍人口", 0, None),
    ("总户籍人口27718户,62999人,其中脱贫户1099户2172人,监测户297户595人。", "1099户", 0, "脱贫户", 0, "其中"),
    ("总户籍人口27718户,62999人,其中脱贫户1099户2172人,监测户297户595人。", "595人", 0, "监测户", 0, "其中"),
    ("全乡辖12个行政村，其中乡村振兴重点帮扶村4个；有脱贫户1836户7925人。", "4个", 0, "乡村振兴重点帮扶村", 0, "其中"),
    ("全乡辖12个行政村，其中乡村振兴重点帮扶村4个；有脱贫户1836户7925人。", "1836户", 0, "脱贫户", 0, None),
    ("共搬迁入住54户224人,其中脱贫户15户64人、三类人员4户16人,共有劳动力42人。", "16人", 0, "三类人员", 0, "其中"),
    ("共搬迁入住54户224人,其中脱贫户15户64人、三类人员4户16人,共有劳动力42人。", "42人", 0, "劳动力", 0, None),
    ("共搬迁入住54户224人,其中脱贫户15户64人、三类人员4户16人,共有劳动力42人。", "54户", 0, "搬迁入住", 0, None),
    ("2023年我镇环保公益性岗位开发21人(其中3人为人社置换),另开发护林员岗位5人。", "3人", 0, "环保公益性岗位", 0, "其中"),
    ("2023年我镇环保公益性岗位开发21人(其中3人为人社置换),另开发护林员岗位5人。", "5人", 0, "护林员岗位", 0, None),
    ("2023年我镇环保公益性岗位开发21人(其中3人为人社置换),另开发护林员岗位5人。", "21人", 0, "环保公益性岗位", 0, None),
    ("其中纳入监测对象3户8人(含脱贫不稳定户1户、突发严重困难户2户)。", "1户", 0, "脱贫不稳定户", 0, "含"),
    ("其中纳入监测对象3户8人(含脱贫不稳定户1户、突发严重困难户2户)。", "2户", 0, "突发严重困难户", 0, "含"),
    ("衔接资金500万元(含中央资金300万元)。", "300万元", 0, "中央资金", 0, "含"),
    ("衔接资金500万元(含中央资金300万元)。", "500万元", 0, "衔接资金", 0, None),
    # a breakdown in brackets right after a figure: the bracket as written
    ("外出务工人员698人(脱贫户686人、监测户12人)。", "698人", 0, "外出务工人员", 0, None),
    ("外出务工人员698人(脱贫户686人、监测户12人)。", "686人", 0, "脱贫户", 0, "("),
    ("外出务工人员698人（脱贫户686人、监测户12人）。", "12人", 0, "监测户", 0, "（"),
    ("安排13名驻村第一书记(其中5名市派,8名镇派),8名驻村工作队员", "8名", 0, "驻村第一书记", 0, "其中"),
    ("安排13名驻村第一书记(其中5名市派,8名镇派),8名驻村工作队员", "8名", 1, "驻村工作队员", 0, None),
    # words that are not status words here
    ("巩固拓展脱贫攻坚成果,脱贫户776户。", "776户", 0, "脱贫户", 0, None),
    ("防止返贫监测对象12户。", "12户", 0, "防止返贫监测对象", 0, None),
    ("坚决防止返贫,监测户94户。", "94户", 0, "监测户", 0, None),
    ("资金300万元用于新增产业项目。", "300万元", 0, "资金", 0, None),
    ("未脱贫户20户。", "20户", 0, "未脱贫户", 0, None),
    # traditional script: found through t2s, returned as written
    ("監測對象112戶,其中已消除風險16戶63人", "16戶", 0, "監測對象", 0, "已消除風險"),
    ("監測戶94戶190人,其中:2023年新增66戶127人", "127人", 0, "監測戶", 0, "新增"),
    # no link: the quantity's own clause still tells
    ("今年新增66户127人。", "66户", 0, None, 0, "新增"),
    ("今年共66户127人。", "66户", 0, None, 0, None),
]


@pytest.mark.parametrize("sentence,quantity,nth,indicator,ind_nth,expected", SPEC_EXAMPLES + MORE_EXAMPLES)
def test_qualifier(sentence, quantity, nth, indicator, ind_nth, expected):
    assert q(sentence, quantity, indicator, nth, ind_nth) == expected


def test_qualifier_is_as_written_in_the_sentence():
    for sentence, quantity, nth, indicator, ind_nth, _ in SPEC_EXAMPLES + MORE_EXAMPLES:
        got = q(sentence, quantity, indicator, nth, ind_nth)
        assert got is None or got in sentence


def test_an_indicator_outside_the_sentence_is_ignored():
    assert qualifier(RISK, _find(RISK, "16户", 0), (-5, -1)) == "已消除风险"
    assert qualifier(RISK, _find(RISK, "112户", 0), (100, 104)) is None

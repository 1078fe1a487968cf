"""Every number in the seed reports is inside a gold QUANTITY or matched by one named exclusion.

Run as a script to list what is uncovered: ``python tests/test_seed_coverage.py``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS_JSONL = ROOT / "annotations" / "seeds.jsonl"

CN_DIGITS = "零〇一二两兩三四五六七八九十百千万萬亿億壹贰貳叁參肆伍陆陸柒捌玖拾佰仟"
NUMBER = re.compile(rf"[0-9０-９]+(?:[.．][0-9０-９]+)*|[{CN_DIGITS}]+")

_CN = f"[{CN_DIGITS}]"
#: named exclusion rules: a number is excluded when one match of the rule covers it entirely
EXCLUSIONS: dict[str, re.Pattern[str]] = {
    "date": re.compile(
        r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}月\d{1,2}日|\d{1,2}月(?:底|初|中旬|份|末)?|\d{1,2}日"
        rf"|{_CN}{{1,3}}月(?:份|底)?|[一二三四]季度|上半年|下半年|20\d{{4,6}}(?=\s*$)"
        r"|[xX]{2}月|\d{4}年\d{1,2}月"
        r"|[一二三四]{2}季度|\d{1,2}至\d{1,2}月|(?<=\n)20\d{4,6}(?=[ \t]*\n)"),
    "year": re.compile(r"(?:19|20)\d{2}(?:年|-(?:19|20)\d{2}|\s*-|\s*—)|20[xX]{2}年?|(?:19|20)\d{2}(?=/|\))"
                       r"|(?<=[(（])\d{4}(?=[)）])|(?<=-)\d{4}年|(?<=成果)\d{4}|(?:^|(?<=\n))\d{1,2}[.．](?:19|20)\d{2}(?=年)"),
    "duration": re.compile(rf"半个月|\d+个工作日|{_CN}+个?(?:工作日|年|月|周|天|小时)(?:内|以来|间)|(?<=[键鍵])五年"),
    "ordinal": re.compile(rf"第[{CN_DIGITS}\d]+[届批次个季期书代]?|第{_CN}+|{_CN}期(?=\S{{0,4}}[项項]目)|{_CN}+届{_CN}+次全会"),
    "list_marker": re.compile(rf"(?m)^\s*(?:[（(]?{_CN}{{1,3}}[)）]|{_CN}{{1,3}}[、是]|[（(]?\d{{1,2}}[)）、.．]?|\d{{1,2}}[、.．])"
                              rf"|[，,;；。:：\s]{_CN}{{1,2}}是|一方面|另一方面|[（(]{_CN}{{1,3}}[)）]|[（(]\d{{1,2}}[)）]|[\n、。]{_CN}[、.．]"
                              r"|\b\d{1,2}[、.．](?=\D)|二保证|\d(?=[继推完加]\S)|(?<=[;；])二(?=发挥)"),
    "slogan": re.compile(
        "两不愁三保障|两不愁|三保障|四个不摘|十四五|十五五|十三五|三类人员|三类|三线预警|一户一档|一户一策|一对一|一超过"
        "|五级书记|两项补贴|两项帮扶|镇村两级|乡村两级|村两委|两委|三业|三农|1\\+5\\+1|两大类|一月一走访|三方联动"
        "|千村示范|五个一|一站式|一村一品|一镇一业|一户一|四议两公开|3\\+X|1\\+N"
        "|兩不愁三保障|兩不愁|四個不摘|三農|千[万萬]工程|兩級|二十大|五年行[动動]"
        "|伍欣甸园|一事一议|十个一|五大振兴|“四[地区]”|[一三]大(?:优势|主导)产业|百万蛋鸡"),
    "lexical": re.compile(
        "一般|进一步|一体化|统一|一直|一致|唯一|一起|一些|一定|一切|一线|一系列|举一反三|千方百计|万一|一批批|一道"
        "|一旦|一律|一并|一同|一贯|一流|一环|一手|逐一|之一|一心|一份子|一揽子|一把手|三令五申|五湖四海|一步|一项项"
        "|百姓|千家万户|万众|一次性|一方|一网|一张图|不一|一改|一本账|单一|一样|第一书记|九九|十分|百分百|一时"
        "|單一|統\\(tǒng\\)一|參與|[队隊]伍|[扫掃]一[扫掃]"
        "|(?<=[稳活美强])一点|一批(?=可复制)"),
    "phone": re.compile(r"(?:\d{3,4}-)?\d{7,8}|1[3-9]\d{9}"),
    "index_number": re.compile(r"ICP备\d+号-\d+|[0-9A-Z]{8,}[/-]\d{4,}[-/]\d+|[0-9A-Z]{10,}|\d{6,}/\d{4}-\d+|X\d{3}|[A-Z]\d{3,}"),
}


def load_seeds() -> list[dict]:
    return [json.loads(line) for line in SEEDS_JSONL.read_text(encoding="utf-8").splitlines() if line.strip()]


def uncovered(doc: dict) -> list[tuple[int, int, str]]:
    text = doc["text"]
    qspans = [(e["start_offset"], e["end_offset"]) for e in doc["entities"] if e["label"] == "QUANTITY"]
    excl = [(m.start(), m.end()) for rx in EXCLUSIONS.values() for m in rx.finditer(text)]
    out = []
    for m in NUMBER.finditer(text):
        a, b = m.span()
        if any(s <= a and b <= e for s, e in qspans) or any(s <= a and b <= e for s, e in excl):
            continue
        out.append((a, b, text[max(0, a - 8):b + 8].replace("\n", "⏎")))
    return out


def excluded_by(text: str, a: int, b: int) -> list[str]:
    return [name for name, rx in EXCLUSIONS.items() if any(m.start() <= a and b <= m.end() for m in rx.finditer(text))]


def test_every_seed_number_is_a_quantity_or_excluded():
    docs = load_seeds()
    assert len(docs) == 5, "annotations/seeds.jsonl must hold the five seed reports"
    problems = [f"{d['id']}@{a}: {ctx}" for d in docs for a, _, ctx in uncovered(d)]
    assert not problems, "numbers neither annotated nor excluded:\n" + "\n".join(problems)


def test_no_quantity_is_also_excluded_as_a_date_or_year():
    # a guard against over-broad exclusions hiding real quantities: annotated quantities must not be
    # swallowed whole by the date/year/ordinal/phone/index rules
    for d in load_seeds():
        for e in d["entities"]:
            if e["label"] != "QUANTITY":
                continue
            names = excluded_by(d["text"], e["start_offset"], e["end_offset"])
            assert not set(names) & {"date", "year", "ordinal", "phone", "index_number"}, (d["id"], e, names)


def test_exclusion_rules_are_not_vacuous():
    assert NUMBER.findall("脱贫户776户1605人,第一批,2023年") == ["776", "1605", "一", "2023"]
    assert "date" in excluded_by("发布时间:2023-11-21", 5, 9)
    assert "slogan" in excluded_by("两不愁三保障", 0, 1)
    assert excluded_by("脱贫户776户", 3, 6) == []


if __name__ == "__main__":
    for d in load_seeds():
        for a, _, ctx in uncovered(d):
            print(f"{d['id']}@{a}: {ctx}")

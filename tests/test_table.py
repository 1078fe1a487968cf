"""``zhibiao table``: totals per document and indicator type that add up (SPEC: only figures whose
qualifier is null, never rates or percentages), the records behind each cell, Excel / CSV (BOM) /
Parquet outputs, and the best-effort date and place."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from zhibiao.cli import main
from zhibiao.docinfo import document_date, document_place, header_info
from zhibiao.extract import default_model_path
from zhibiao.io.writers import convert_records, record_line
from zhibiao.records import RECORD_FIELDS
from zhibiao.table import CELL_COLUMNS, TABLE_COLUMNS, build_table, read_records

ROOT = Path(__file__).resolve().parents[1]
DAFO = ROOT / "examples" / "reports" / "000_dafo.txt"
SHIPPED = (default_model_path() / "model.safetensors").exists()


def rec(quantity: str, value: float | None, unit: str | None, nunit: str | None, *, doc: str = "d1",
        indicator: str | None = "监测户", itype: str | None = "monitored", zh: str | None = "监测对象",
        qualifier: str | None = None, vmax: float | None = None, nvalue: float | None = None,
        start: int = 0, sentence: str = "") -> dict:
    nv = value if nvalue is None else nvalue
    return {"indicator": indicator, "indicator_type": itype, "quantity": quantity, "value": value,
            "value_max": vmax, "unit": unit, "normalized_value": nv, "normalized_unit": nunit,
            "normalized_value_max": None if vmax is None else vmax * (nv / value if value else 1),
            "qualifier": qualifier, "indicator_type_zh": zh if itype else None, "approximate": False,
            "start": start, "end": start + len(quantity), "indicator_start": None, "indicator_end": None,
            "sentence": sentence or quantity, "score": 0.9, "doc_id": doc}


CONSTRUCTED = [
    rec("94户", 94, "户", "户", sentence="监测户94户190人,其中:2023年新增66户127人。"),
    rec("190人", 190, "人", "人"),
    rec("66户", 66, "户", "户", qualifier="新增"),
    rec("127人", 127, "人", "人", qualifier="新增"),
    rec("12人", 12, "人", "人", qualifier="("),
    rec("87.25%", 87.25, "%", "%"),                                           # a percentage
    rec("100元/人", 100, "元/人", "元/人", itype="income", zh="收入", indicator="人均收入"),  # a rate
    rec("300元/亩", 300, "元/亩", "元/亩", itype="income", zh="收入", indicator="流转费"),
    rec("31.1万元", 31.1, "万元", "元", nvalue=311000.0, itype="industry_subsidy", zh="产业奖补/到户产业",
        indicator="到户产业资金"),
    rec("5—7万元", 5, "万元", "元", vmax=7, nvalue=50000.0, itype="industry_subsidy", zh="产业奖补/到户产业",
        indicator="到户产业资金"),
    rec("362人次", 362, "人次", "人次", itype="training", zh="培训", indicator="培训"),
    rec("3000余亩", 3000, "亩", "亩", itype="industry_scale", zh="产业规模", indicator="茶园"),
    rec("7个", 7, "个", "个", indicator=None, itype=None),                   # no link: no type, no row
    rec("20户", 20, "户", "户", doc="d2", sentence="2024年，青石镇监测户20户。"),
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(record_line(r) for r in rows), encoding="utf-8")
    return path


def row_of(table: pd.DataFrame, doc: str, itype: str) -> pd.Series:
    rows = table[(table["doc_id"] == doc) & (table["indicator_type"] == itype)]
    assert len(rows) == 1, (doc, itype)
    return rows.iloc[0]


def test_only_figures_that_count_the_group_are_summed_never_rates_or_percentages(tmp_path):
    table, cells = build_table(read_records(write_jsonl(tmp_path / "r.jsonl", CONSTRUCTED)))
    assert list(table.columns) == list(TABLE_COLUMNS) and list(cells.columns) == list(CELL_COLUMNS)
    m = row_of(table, "d1", "monitored")
    assert (m["households"], m["persons"]) == (94.0, 190.0)  # not 94 + 66, not 190 + 127 + 12
    assert (m["figures"], m["left_out"], m["indicator_type_zh"]) == (2, 4, "监测对象")
    assert pd.isna(m["amount_yuan"]) and pd.isna(m["person_times"])  # no figure: empty, not 0
    income = row_of(table, "d1", "income")  # 100元/人, 300元/亩 and 87.25% are never summed
    assert all(pd.isna(income[c]) for c in ("households", "persons", "person_times", "amount_yuan"))
    assert (income["figures"], income["left_out"]) == (0, 2)
    money = row_of(table, "d1", "industry_subsidy")  # 万元 -> 元; a range adds its low end, flagged
    assert money["amount_yuan"] == 311000.0 + 50000.0 and money["ranges"] == 1
    assert row_of(table, "d1", "training")["person_times"] == 362.0
    assert pd.isna(row_of(table, "d1", "industry_scale")["households"])
    assert row_of(table, "d2", "monitored")["households"] == 20.0
    assert set(table["indicator_type"]) == {"monitored", "income", "industry_subsidy", "training", "industry_scale"}
    reasons = dict(zip(cells["quantity"], cells["reason"]))
    assert reasons["66户"] == "qualifier 新增" and reasons["12人"] == "qualifier ("
    assert reasons["87.25%"] == reasons["100元/人"] == reasons["300元/亩"] == "rate or percentage"
    assert reasons["3000余亩"] == "unit 亩 is not a table column" and pd.isna(reasons["94户"])
    assert "7个" not in reasons  # unlinked quantities are behind no cell
    assert dict(zip(cells["quantity"], cells["column"]))["66户"] == "households"


def test_a_percentage_in_a_table_unit_column_is_still_not_summed(tmp_path):
    rows = [rec("5户", 5, "户", "户"), rec("3户/村", 3, "户/村", "户"), rec("8%户", 8, "%", "户")]
    table, _ = build_table(read_records(write_jsonl(tmp_path / "r.jsonl", rows)))
    assert row_of(table, "d1", "monitored")["households"] == 5.0


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_records_files_in_every_format_give_the_same_table(tmp_path, fmt):
    jsonl = write_jsonl(tmp_path / "r.jsonl", CONSTRUCTED)
    other = tmp_path / f"r.{fmt}"
    convert_records(jsonl, other, fmt)
    a, _ = build_table(read_records(jsonl))
    b, _ = build_table(read_records(other))
    pd.testing.assert_frame_equal(a, b)


def test_outputs_xlsx_csv_with_bom_and_parquet(tmp_path):
    records = write_jsonl(tmp_path / "r.jsonl", CONSTRUCTED + [rec("1户", 1, "户", "户", doc="=cmd|' /C calc'!A0",
                                                                   sentence="页眉\x0c监测户1户")])
    assert main(["table", str(records), "-o", str(tmp_path / "t.xlsx")]) == 0
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["table", "records"]
    assert [c.value for c in book["table"][1]] == list(TABLE_COLUMNS)
    assert all(c.data_type != "f" for row in book["table"].iter_rows() for c in row)  # text, never a formula
    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert row_of(sheets["table"], "d1", "monitored")["households"] == 94
    assert len(sheets["records"]) == 14 and list(sheets["records"].columns) == list(CELL_COLUMNS)
    assert "=cmd|' /C calc'!A0" in set(sheets["table"]["doc_id"])

    assert main(["table", str(records), "-o", str(tmp_path / "t.csv")]) == 0
    for name in ("t.csv", "t.records.csv"):
        raw = (tmp_path / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
    csv = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    assert row_of(csv, "d1", "monitored")["persons"] == 190

    assert main(["table", str(records), "-o", str(tmp_path / "t.parquet")]) == 0
    pq = pd.read_parquet(tmp_path / "t.parquet")
    assert row_of(pq, "d1", "monitored")["households"] == 94
    assert len(pd.read_parquet(tmp_path / "t.records.parquet")) == 14


def test_clear_errors(tmp_path, capsys):
    records = write_jsonl(tmp_path / "r.jsonl", CONSTRUCTED)
    assert main(["table", str(records), "-o", str(tmp_path / "t.txt")]) == 2
    assert "must end in .xlsx, .csv or .parquet" in capsys.readouterr().err
    old = [{k: v for k, v in r.items() if k not in ("qualifier", "indicator_type_zh", "normalized_value_max")}
           for r in CONSTRUCTED]
    write_jsonl(tmp_path / "old.jsonl", old)
    assert main(["table", str(tmp_path / "old.jsonl"), "-o", str(tmp_path / "t.csv")]) == 2
    assert "run zhibiao extract again" in capsys.readouterr().err
    assert main(["table", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "t.csv")]) == 2
    assert not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("text,date,place", [
    ("乐至县大佛镇\n政府信息公开\n关于2023年下半年工作报告\n发布时间:2023-11-21   录入:乐至县大佛镇", "2023-11-21", "乐至县大佛镇"),
    ("祁塬县红崖乡2022年上半年巩固拓展脱贫攻坚成果工作汇报", "2022", "祁塬县红崖乡"),
    ("2023年8月4日龙下乡乡村振兴工作专题报告", "2023-08-04", "龙下乡"),
    ("本人作为岚关县青岗镇党委书记,2019年11月认真履行职责", "2019-11", "岚关县青岗镇"),
    ("發布機構:貴池區(qū)牌樓鎮(zhèn)人民政府 發布日期: 2025-10-20", "2025-10-20", "贵池区牌楼镇"),
    ("四川省资阳市乐至县大佛镇人民政府", None, "四川省资阳市乐至县大佛镇"),
    ("现将大佛镇2023年下半年工作汇报如下", "2023", "大佛镇"),
    ("全镇共有脱贫户776户,一方面针对重点村、脱贫村积极开发,确保了全乡稳定", None, None),
    ("20xx年是脱贫攻坚工作取得全面胜利的一年", None, None),
    ("索引号:4309810018/2023-1813795 发文日期:2023-07-12", "2023-07-12", None),
])
def test_header_date_and_place(text, date, place):
    assert header_info(text) == {"date": date, "place": place}
    assert document_date(text) == date and document_place(text) == place


@pytest.mark.skipif(not SHIPPED, reason="the shipped model (models/default/model.safetensors) is not in this checkout")
def test_the_bundled_dafo_report_with_the_shipped_model(tmp_path):
    """The issue's check: 大佛镇 监测户 = 94 households, 190 persons, not the sum of its parts."""
    import zhibiao

    nlp = zhibiao.load()
    text = DAFO.read_text(encoding="utf-8")
    records = nlp(text, doc_id=str(DAFO))
    assert {f for r in records for f in r.to_dict()} == set(RECORD_FIELDS)
    path = write_jsonl(tmp_path / "records.jsonl", [r.to_dict() for r in records])
    out = tmp_path / "table.xlsx"
    assert main(["table", str(path), "-o", str(out), "--inputs", str(DAFO)]) == 0
    sheets = pd.read_excel(out, sheet_name=None)
    monitored = row_of(sheets["table"], str(DAFO), "monitored")
    assert (monitored["households"], monitored["persons"]) == (94, 190)
    assert monitored["indicator_type_zh"] == "监测对象"
    assert (monitored["date"], monitored["place"]) == ("2023-11-21", "乐至县大佛镇")
    parts = sheets["records"][(sheets["records"]["doc_id"] == str(DAFO))
                              & (sheets["records"]["indicator_type"] == "monitored")]
    assert set(parts[~parts["counted"]]["qualifier"]) >= {"新增"}  # 66户, 24户, 2户 (and 5户) are left out
    assert sorted(parts[parts["counted"]]["quantity"]) == ["190人", "94户"]
    # without the document: the date and place come from the records' sentences (best effort)
    assert main(["table", str(path), "-o", str(tmp_path / "t.csv")]) == 0
    csv = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig", dtype=str)
    assert set(csv["place"]) == {"大佛镇"}
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["indicator_type_zh"]

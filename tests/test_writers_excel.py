"""Outputs for Excel: ``zhibiao extract -o out.xlsx`` (one row per record, the record fields as the
header row; opens with openpyxl and pandas; the same bytes across runs and worker counts) and CSV
with a UTF-8 byte-order mark."""
from __future__ import annotations

import codecs
import csv
import json
import zipfile
from pathlib import Path

import pytest

from zhibiao.batch import extract_documents
from zhibiao.cli import main
from zhibiao.errors import ZhibiaoError
from zhibiao.extract import load
from zhibiao.ingest import iter_documents
from zhibiao.io.excel import MAX_CELL_CHARS, write_workbook, write_xlsx
from zhibiao.io.writers import output_format
from zhibiao.records import RECORD_FIELDS

openpyxl = pytest.importorskip("openpyxl")

REPORTS = [
    "青石镇脱贫户776户1605人,监测户12户30人。發放外出務工補助３１．１万元。",
    "2023年，大佛镇共有监测户94户190人，其中新增监测户24户。",
    "全县农村居民人均可支配收入达到15230元，同比增长8.5%，发放小额信贷3.2亿元。",
    "开发公益性岗位132个，其中光伏公岗52个。",
    "=SUM(A1:A9) 公益性岗位5个。",  # a formula-looking sentence stays text
]


@pytest.fixture(scope="module")
def rules():
    return load("rules")


@pytest.fixture()
def reports(tmp_path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for i, text in enumerate(REPORTS):
        (src / f"r{i}.txt").write_text(text, encoding="utf-8")
    return src


def run(capsys, reports: Path, out: Path, *extra: str) -> int:
    code = main(["extract", str(reports), "-o", str(out), "--model", "rules", "--no-progress", *extra])
    capsys.readouterr()
    return code


def jsonl_records(capsys, reports: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "ref.jsonl"
    assert run(capsys, reports, out) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_xlsx_output_opens_with_openpyxl_one_row_per_record(capsys, tmp_path, reports):
    records = jsonl_records(capsys, reports, tmp_path)
    out = tmp_path / "out.xlsx"
    assert run(capsys, reports, out) == 0
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["records"]
    rows = list(wb["records"].iter_rows(values_only=True))
    assert list(rows[0]) == list(RECORD_FIELDS)
    assert len(rows) == len(records) + 1 and len(records) >= 8
    for row, rec in zip(rows[1:], records):
        row = tuple(row) + (None,) * (len(RECORD_FIELDS) - len(row))  # read_only drops trailing empty cells
        assert dict(zip(RECORD_FIELDS, row)) == rec  # numbers, flags, text and empty cells as in JSONL
    formula = [r for r in records if r["sentence"].startswith("=")]
    assert formula and any(row[RECORD_FIELDS.index("sentence")] == formula[0]["sentence"] for row in rows)
    assert not (tmp_path / "out.xlsx.partial.jsonl").exists() and not (tmp_path / "out.xlsx.partial.xlsx").exists()


def test_xlsx_output_opens_with_pandas(capsys, tmp_path, reports):
    pd = pytest.importorskip("pandas")
    records = jsonl_records(capsys, reports, tmp_path)
    out = tmp_path / "out.xlsx"
    assert run(capsys, reports, out) == 0
    df = pd.read_excel(out, sheet_name="records")
    assert list(df.columns) == list(RECORD_FIELDS) and len(df) == len(records)
    assert df["quantity"].tolist() == [r["quantity"] for r in records]
    assert df["normalized_value"].tolist() == [r["normalized_value"] for r in records]
    assert df["doc_id"].tolist() == [r["doc_id"] for r in records]


def test_xlsx_is_the_same_bytes_across_runs_and_worker_counts(tmp_path, reports, rules):
    outs = []
    for i, workers in enumerate([1, 2, 1]):
        out = tmp_path / f"o{i}.xlsx"
        extract_documents(rules, iter_documents([reports]), out, batch_size=2, progress=False, workers=workers)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    with zipfile.ZipFile(tmp_path / "o0.xlsx") as zf:  # fixed stamps: nothing of the time of the run
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"1980-01-01T00:00:00Z" in zf.read("docProps/core.xml")


def test_csv_starts_with_a_bom_and_reads_back(capsys, tmp_path, reports):
    records = jsonl_records(capsys, reports, tmp_path)
    out = tmp_path / "out.csv"
    assert run(capsys, reports, out) == 0
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8 * 2)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(RECORD_FIELDS)
    assert [r["quantity"] for r in rows] == [r["quantity"] for r in records]
    pd = pytest.importorskip("pandas")
    assert list(pd.read_csv(out).columns) == list(RECORD_FIELDS)  # pandas drops the BOM itself


def test_output_formats():
    assert [output_format(f"x{s}") for s in (".jsonl", ".csv", ".XLSX", ".parquet")] == ["jsonl", "csv", "xlsx", "parquet"]
    with pytest.raises(ZhibiaoError, match=r"\.jsonl, \.csv, \.xlsx or \.parquet"):
        output_format("x.xls")


def test_write_xlsx_cells(tmp_path, monkeypatch):
    """Control characters become U+FFFD, over-long text is cut at Excel's cell limit, missing keys
    are empty cells, and rows past a sheet's limit go on in the next sheet."""
    import zhibiao.io.excel as excel

    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 2)
    rows = [{"a": "x\x01y", "b": 1}, {"a": "=1+1"}, {"a": "z" * (MAX_CELL_CHARS + 5), "b": 2.5}]
    out = tmp_path / "t.xlsx"
    assert write_xlsx(iter(rows), out, ["a", "b"], sheet="s") == 3
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["s", "s_2"]
    assert [list(r) for r in wb["s"].iter_rows(values_only=True)] == [["a", "b"], ["x\ufffdy", 1], ["=1+1", None]]
    assert wb["s"]["A3"].data_type == "s"
    assert [list(r) for r in wb["s_2"].iter_rows(values_only=True)] == [["a", "b"], ["z" * MAX_CELL_CHARS, 2.5]]
    assert wb["s"].freeze_panes == "A2" and wb["s"]["A1"].font.bold


def test_write_workbook_sheets(tmp_path):
    out = tmp_path / "w.xlsx"
    assert write_workbook(out, [("table", ["k"], [{"k": 1}]), ("records", ["r"], [])]) == [1, 0]
    assert openpyxl.load_workbook(out).sheetnames == ["table", "records"]


def test_csv_cells_that_excel_would_take_for_formulas_are_text(tmp_path, capsys):
    """A document id that looks like a formula gives doc_id cells that start with an apostrophe in
    the CSV (Excel shows them as text); zhibiao table reads them back as the original ids."""
    from zhibiao.io.csvcells import csv_cell, csv_value

    for text in ("=HYPERLINK(\"x\")", "+1", "-cmd", "@SUM(A1)", "\tx", "'quoted", "plain", "脱贫户"):
        assert csv_value(csv_cell(text)) == text
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("plain") == "plain"
    assert csv_cell(-3.5) == -3.5 and csv_cell(None) is None  # numbers and empty cells unchanged
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": '=HYPERLINK("http://x")', "text": "全镇共有脱贫户776户1605人。"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["extract", str(docs), "-o", str(out), "--model", "rules", "--no-progress"]) == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["doc_id"] == '\'=HYPERLINK("http://x")' for r in rows)
    from zhibiao.table import read_records

    assert set(read_records(out)["doc_id"]) == {'=HYPERLINK("http://x")'}

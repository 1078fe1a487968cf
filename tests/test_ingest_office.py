"""Word (.docx), PDF with a text layer, and the kinds that hold no readable text (.doc, images, a
scanned PDF): read in folders and archives like any other input, records equal to those of the
same text saved as .txt, the unreadable ones in the errors file with their reason (never skipped
silently), and a missing input path an immediate usage error."""
from __future__ import annotations

import io
import json
import random
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from zhibiao.cli import main
from zhibiao.errors import EmptyDocumentError, UnreadableFileError, UnsupportedFormatError
from zhibiao.ingest import iter_documents, read_bytes, read_documents, read_file

docx = pytest.importorskip("docx")

PARAGRAPHS = [
    "2023年，大佛镇共有监测户94户190人，其中新增监测户24户。",
    "全县农村居民人均可支配收入达到15230元，同比增长8.5%。",
    "发放小额信贷3.2亿元，惠及脱贫户1200余户。",
]
TABLE = [["乡镇", "脱贫户", "监测户"], ["青石镇", "776户", "12户30人"]]
DOCX_TEXT = "\n".join(PARAGRAPHS[:2] + ["\t".join(row) for row in TABLE] + PARAGRAPHS[2:])
PDF_TEXT = "\n".join(PARAGRAPHS)


# -- tiny file makers --------------------------------------------------------------------------

def docx_bytes(paragraphs_before: list[str], table: list[list[str]], paragraphs_after: list[str]) -> bytes:
    d = docx.Document()
    for p in paragraphs_before:
        d.add_paragraph(p)
    t = d.add_table(rows=len(table), cols=len(table[0]))
    for i, row in enumerate(table):
        for j, value in enumerate(row):
            t.cell(i, j).text = value
    for p in paragraphs_after:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def report_docx() -> bytes:
    return docx_bytes(PARAGRAPHS[:2], TABLE, PARAGRAPHS[2:])


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A PDF with a text layer, written by hand: one line of text per ``Tj`` in the standard CJK
    font STSong-Light (Adobe-GB1, UniGB-UCS2-H encoding, not embedded), each page its own stream."""
    n = len(pages)
    font, descendant, descriptor = 3 + 2 * n, 4 + 2 * n, 5 + 2 * n
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n)), n)]
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 10 Tf", "15 TL", "40 790 Td"]
        ops += [f"<{line.encode('utf-16-be').hex().upper()}> Tj T*" for line in lines]
        stream = "\n".join(ops + ["ET"]).encode("ascii")
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 842] "
                    b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, 4 + 2 * i))
        objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objs.append(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
                b"/DescendantFonts [%d 0 R] >>" % descendant)
    objs.append(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo "
                b"<< /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor %d 0 R /DW 1000 >>" % descriptor)
    objs.append(b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
                b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def scanned_pdf() -> bytes:
    from PIL import Image  # pdfplumber depends on Pillow

    buf = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(buf, "PDF")
    return buf.getvalue()


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "black").save(buf, "PNG")
    return buf.getvalue()


def mixed_folder(root: Path) -> Path:
    """The issue's folder: .txt, .docx, .pdf (text layer), .doc, a scanned PDF and a .png."""
    root.mkdir(parents=True)
    (root / "0说明.txt").write_text(PDF_TEXT, encoding="utf-8")
    (root / "2023年工作总结.docx").write_bytes(report_docx())
    (root / "汇报.pdf").write_bytes(pdf_bytes([PARAGRAPHS[:2], PARAGRAPHS[2:]]))
    (root / "旧报告.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(0).randbytes(2000))
    (root / "扫描件.pdf").write_bytes(scanned_pdf())
    (root / "照片.png").write_bytes(png())
    return root


UNREADABLE = {"旧报告.doc": "old binary Word .doc: save it as .docx",
              "扫描件.pdf": "PDF has no text layer (scanned?)",
              "照片.png": "OCR it first"}


# -- readers -----------------------------------------------------------------------------------

def test_docx_body_in_reading_order_with_the_table_where_it_stands():
    doc = read_bytes(report_docx(), "r.docx", suffix=".docx", source="r.docx")
    assert doc.text == DOCX_TEXT and doc.encoding is None and doc.source == "r.docx"


def test_docx_cell_paragraphs_merged_cells_and_content_controls():
    d = docx.Document()
    t = d.add_table(rows=2, cols=3)
    a = t.cell(0, 0).merge(t.cell(0, 1))  # one cell over two grid columns: read once
    a.text = "合并"
    t.cell(0, 2).text = "第一段"
    t.cell(0, 2).add_paragraph("第二段")
    t.cell(1, 0).text = "甲"
    t.cell(1, 2).text = "丙"
    buf = io.BytesIO()
    d.save(buf)
    assert read_bytes(buf.getvalue(), "t.docx", suffix=".docx").text == "合并\t第一段 第二段\n甲\t\t丙"


def test_pdf_text_layer_pages_in_order():
    data = pdf_bytes([PARAGRAPHS[:2], PARAGRAPHS[2:]])
    doc = read_bytes(data, "r.pdf", suffix=".PDF")
    assert doc.text == PDF_TEXT and "大佛镇共有监测户94户190人" in doc.text


@pytest.mark.parametrize("name,data,kind,reason", [
    ("a.doc", b"\xd0\xcf\x11\xe0 anything", UnsupportedFormatError, "old binary Word .doc: save it as .docx"),
    ("a.xls", b"whatever", UnsupportedFormatError, "old binary Excel .xls"),
    ("a.ppt", b"whatever", UnsupportedFormatError, "PowerPoint .ppt"),
    ("a.JPG", b"\xff\xd8\xff", UnsupportedFormatError, "image .jpg"),
    ("scan.pdf", None, UnsupportedFormatError, "PDF has no text layer (scanned?), 1 page(s): OCR it first"),
    ("bad.pdf", b"%PDF-1.4 torn", UnreadableFileError, "not a readable PDF"),
    ("bad.docx", b"PK\x03\x04 torn", UnreadableFileError, "not a valid .docx"),
    ("zip.docx", None, UnreadableFileError, "not a valid .docx"),
    ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", UnsupportedFormatError, "old binary Word file"),
])
def test_unreadable_kinds_say_why(tmp_path, name, data, kind, reason):
    if data is None and name == "scan.pdf":
        data = scanned_pdf()
    elif data is None:  # a zip that is no Word package
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("a.txt", "x")
        data = buf.getvalue()
    (tmp_path / name).write_bytes(data)
    with pytest.raises(kind) as exc:
        read_file(tmp_path / name)
    assert reason in str(exc.value) and exc.value.doc_id == str(tmp_path / name)


def test_an_empty_docx_is_an_empty_document():
    d = docx.Document()
    buf = io.BytesIO()
    d.save(buf)
    with pytest.raises(EmptyDocumentError, match="holds no text"):
        read_bytes(buf.getvalue(), "e.docx", suffix=".docx")


def test_unsupported_files_are_not_read(tmp_path, monkeypatch):
    """A folder of scans costs no reading: the bytes of an image are never opened."""
    (tmp_path / "scan.tif").write_bytes(b"II*\x00")

    def no_reading(self):
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    items = list(iter_documents(tmp_path))
    assert len(items) == 1 and isinstance(items[0], UnsupportedFormatError)
    assert "OCR it first" in str(items[0])


def test_folder_walk_reports_every_file_and_skips_none_of_these(tmp_path):
    root = mixed_folder(tmp_path / "in")
    skipped: list[str] = []
    items = list(iter_documents(root, skipped=skipped))
    assert skipped == []
    docs = {Path(i.doc_id).name: i.text for i in items if not isinstance(i, Exception)}
    errors = {Path(i.doc_id).name: str(i) for i in items if isinstance(i, Exception)}
    assert docs == {"0说明.txt": PDF_TEXT, "2023年工作总结.docx": DOCX_TEXT, "汇报.pdf": PDF_TEXT}
    assert set(errors) == set(UNREADABLE) and all(UNREADABLE[n] in errors[n] for n in errors)


def test_docx_and_pdf_inside_tar_archives(tmp_path):
    t = tmp_path / "r.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        for name, data in [("a.docx", report_docx()), ("b.pdf", pdf_bytes([PARAGRAPHS])), ("c.png", png())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    items = list(iter_documents(t))
    assert [i.text for i in items[:2]] == [DOCX_TEXT, PDF_TEXT]
    assert isinstance(items[2], UnsupportedFormatError) and items[2].doc_id == f"{t}!c.png"
    with pytest.raises(UnsupportedFormatError):
        read_documents(t)


# -- the command line --------------------------------------------------------------------------

def extract(capsys, inputs: list[Path], out: Path) -> tuple[int, list[dict], list[dict], str]:
    code = main(["extract", *map(str, inputs), "-o", str(out), "--model", "rules", "--no-progress"])
    err = capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    errors_file = Path(str(out) + ".errors.jsonl")
    errors = [json.loads(line) for line in errors_file.read_text(encoding="utf-8").splitlines()] \
        if errors_file.exists() else []
    return code, records, errors, err


def by_document(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        out[r["doc_id"]].append({k: v for k, v in r.items() if k != "doc_id"})
    return out


@pytest.fixture(scope="module")
def as_txt(tmp_path_factory) -> dict[str, list[dict]]:
    """Records of the docx's and the pdf's text saved as .txt files: the reference."""
    import contextlib

    root = tmp_path_factory.mktemp("ref")
    (root / "docx.txt").write_text(DOCX_TEXT, encoding="utf-8")
    (root / "pdf.txt").write_text(PDF_TEXT, encoding="utf-8")
    out = root / "ref.jsonl"
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["extract", str(root / "docx.txt"), str(root / "pdf.txt"), "-o", str(out),
                     "--model", "rules", "--no-progress"]) == 0
    recs = by_document([json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()])
    return {"docx": recs[str(root / "docx.txt")], "pdf": recs[str(root / "pdf.txt")]}


def check_mixed_run(code, records, errors, err, prefix: str, as_txt) -> None:
    recs = by_document(records)
    assert set(recs) == {f"{prefix}0说明.txt", f"{prefix}2023年工作总结.docx", f"{prefix}汇报.pdf"}
    assert recs[f"{prefix}2023年工作总结.docx"] == as_txt["docx"] and len(as_txt["docx"]) >= 5
    assert recs[f"{prefix}汇报.pdf"] == as_txt["pdf"] == recs[f"{prefix}0说明.txt"]
    assert {e["doc_id"]: e["error_type"] for e in errors} == {
        f"{prefix}{name}": "UnsupportedFormatError" for name in UNREADABLE}
    for e in errors:
        assert UNREADABLE[e["doc_id"][len(prefix):]] in e["message"]
    assert "6 documents" in err and "3 failures" in err and code == 1


def test_extract_a_mixed_folder(capsys, tmp_path, as_txt):
    root = mixed_folder(tmp_path / "reports")
    check_mixed_run(*extract(capsys, [root], tmp_path / "out.jsonl"), f"{root}/", as_txt)


def test_extract_the_same_folder_zipped(capsys, tmp_path, as_txt):
    root = mixed_folder(tmp_path / "reports")
    z = tmp_path / "reports.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.iterdir()):
            zf.write(p, p.name)
    check_mixed_run(*extract(capsys, [z], tmp_path / "out.jsonl"), f"{z}!", as_txt)


@pytest.mark.parametrize("command", ["extract", "normalize"])
def test_a_missing_input_path_is_an_immediate_usage_error(capsys, tmp_path, command):
    (tmp_path / "a.txt").write_text(PDF_TEXT, encoding="utf-8")
    missing = tmp_path / "没有这个文件夹"
    out = tmp_path / "out.jsonl"
    with pytest.raises(SystemExit) as exc:
        main([command, str(tmp_path / "a.txt"), str(missing), "-o", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and f"{missing}: no such file or folder" in err and "Traceback" not in err
    assert not out.exists()

"""Tests for zhibiao.ingest: every input kind and every bad-input case, all fixtures built here."""
from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from zhibiao.errors import (
    ArchiveTooLargeError,
    BinaryContentError,
    DecodeError,
    EmptyDocumentError,
    IngestError,
    JsonlRecordError,
    UnreadableFileError,
    UnsafeMemberError,
    UnsupportedFormatError,
)
from zhibiao.ingest import (
    DocumentReader,
    _LimitExceeded,
    _read_capped,
    decode_bytes,
    html_to_text,
    iter_documents,
    read_bytes,
    read_documents,
    read_file,
    read_text,
)
from zhibiao.records import Document

SIMPLIFIED = ("为深入贯彻落实党中央、国务院关于全面推进乡村振兴的决策部署，2023年全县农村居民人均可支配收入"
              "达到18562元，同比增长7.8%。巩固拓展脱贫攻坚成果，脱贫人口人均纯收入增长12.3%，"
              "新建高标准农田5.2万亩，粮食总产量稳定在45万吨以上。")
TRADITIONAL = ("為深入貫徹落實黨中央、國務院關於全面推進鄉村振興的決策部署，2023年全縣農村居民人均可支配收入"
               "達到18562元，同比增長7.8%。鞏固拓展脫貧攻堅成果，脫貧人口人均純收入增長12.3%，"
               "新建高標準農田5.2萬畝，糧食總產量穩定在45萬噸以上。")


def docs_and_errors(items):
    items = list(items)
    return [i for i in items if isinstance(i, Document)], [i for i in items if isinstance(i, IngestError)]


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def make_tar(path: Path, members: dict[str, bytes], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


# ---------------------------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("codec, expected", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("utf-16", "utf-16"),        # BOM in native (little-endian) order
    ("gbk", "gb18030"),
    ("gb18030", "gb18030"),
])
def test_decode_simplified(codec, expected):
    text, enc = decode_bytes(SIMPLIFIED.encode(codec), "doc")
    assert (text, enc) == (SIMPLIFIED, expected)


def test_decode_utf16_big_endian_bom():
    data = b"\xfe\xff" + SIMPLIFIED.encode("utf-16-be")
    assert decode_bytes(data, "doc") == (SIMPLIFIED, "utf-16")


def test_big5_traditional_detected_as_big5():
    data = TRADITIONAL.encode("big5")
    # Big5 bytes are also valid GB18030, so detection must really choose
    data.decode("gb18030")
    assert decode_bytes(data, "doc") == (TRADITIONAL, "big5")


@pytest.mark.parametrize("sample", ["乡村振兴", "粮食产量", "新建农村公路", "脱贫户776户1605人"])
def test_short_gbk_simplified_detected_as_gb18030(sample):
    assert decode_bytes(sample.encode("gbk"), "doc") == (sample, "gb18030")


@pytest.mark.parametrize("sample", ["鄉村振興", "糧食產量", "脫貧戶776戶1605人", "農村居民人均可支配收入"])
def test_short_big5_traditional_detected_as_big5(sample):
    assert decode_bytes(sample.encode("big5"), "doc") == (sample, "big5")


def test_traditional_text_in_gbk_stays_gb18030():
    assert decode_bytes(TRADITIONAL.encode("gb18030"), "doc") == (TRADITIONAL, "gb18030")


def test_truncated_last_character_is_dropped():
    data = SIMPLIFIED.encode("utf-8")
    text, enc = decode_bytes(data[:-1], "doc")  # cut inside the final "。"
    assert (text, enc) == (SIMPLIFIED[:-1], "utf-8")
    text, enc = decode_bytes(SIMPLIFIED.encode("gbk") + b"\xd6", "doc")
    assert (text, enc) == (SIMPLIFIED, "gb18030")


def test_western_text_falls_back_to_charset_normalizer():
    data = "Café résumé naïve, déjà vu. Le rapport annuel est prêt.".encode("cp1252")
    text, enc = decode_bytes(data, "doc")
    assert text == "Café résumé naïve, déjà vu. Le rapport annuel est prêt."
    assert enc not in {"utf-8", "gb18030", "big5"}


def test_binary_nul_bytes():
    with pytest.raises(BinaryContentError, match=r"^img\.txt: .*NUL"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "img.txt")


def test_binary_control_characters():
    with pytest.raises(BinaryContentError, match=r"^blob: .*control"):
        decode_bytes(bytes(range(1, 32)) * 4 + b"abc", "blob")
    # a form feed (pdftotext page break) is text
    assert decode_bytes("第一页\f第二页".encode(), "doc")[0] == "第一页\f第二页"


def test_utf16_with_bom_and_control_characters_is_binary():
    with pytest.raises(BinaryContentError, match="^u16: "):
        decode_bytes(b"\xff\xfe" + "\x01\x02\x03\x04".encode("utf-16-le") * 10, "u16")


def test_undecodable_bytes():
    # valid UTF-8 with a stray byte in the middle: neither UTF-8, GB18030 nor Big5
    data = SIMPLIFIED.encode("utf-8")
    bad = data[:30] + b"\xff" + data[30:]
    with pytest.raises(DecodeError, match=r"^bad\.txt: .*not valid UTF-8"):
        decode_bytes(bad, "bad.txt")


def test_bom_with_invalid_body_is_a_decode_error():
    with pytest.raises(DecodeError, match=r"^x: .*utf-8-sig"):
        decode_bytes(b"\xef\xbb\xbf" + "中文".encode("gbk") + b"\xff\xff", "x")


def test_big5_with_a_broken_byte_is_not_accepted_as_gibberish():
    data = TRADITIONAL.encode("big5")
    with pytest.raises(DecodeError, match="^t: "):
        decode_bytes(data[:20] + b"\xff" + data[20:], "t")


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>站点标题</title>
<style>p { color: red }</style><script>var secret = "脚本内容";</script></head>
<body><nav><a href="/">首页</a> | <a href="/x">导航菜单</a></nav>
<div class="content"><h1>2023年政府工作报告</h1>
<p>全县脱贫户776户&nbsp;1605人，<b>同比</b>增长&lt;5%&gt; &amp; 稳定。<br>新建农村公路12公里。</p>
<p>第二段：粮食
产量 45
万吨。</p><!-- 注释 -->
<noscript>请开启脚本</noscript>
<table><tr><th>指标</th><th>数值</th></tr><tr><td>人均收入</td><td>18562元</td></tr></table>
<ul><li>一是</li><li>二是</li></ul>
甲<br><br><br><br>乙
</div></body></html>"""


def test_html_to_text_blocks_and_dropped_elements():
    text = html_to_text(PAGE)
    lines = text.split("\n")
    assert lines[0] == "2023年政府工作报告"
    assert lines[1] == "全县脱贫户776户\xa01605人，同比增长<5%> & 稳定。"
    assert lines[2] == "新建农村公路12公里。"
    # a source line break between two hanzi disappears, elsewhere it is a space
    assert lines[3] == "第二段：粮食产量 45 万吨。"
    assert "指标\t数值" in lines and "人均收入\t18562元" in lines
    assert "一是" in lines and "二是" in lines
    assert "甲\n\n乙" in text  # runs of <br> collapse to one blank line
    for dropped in ("站点标题", "color", "脚本内容", "首页", "导航菜单", "注释", "请开启脚本"):
        assert dropped not in text
    assert not text.startswith("\n") and not text.endswith("\n")


def test_html_entities_and_whitespace():
    assert html_to_text("<p>a &amp;&#20154;&#x4eba;   b</p>\n\n<p>  c  </p>") == "a &人人 b\nc"
    assert html_to_text("<pre>第一行\n第二行</pre>") == "第一行\n第二行"


def test_html_deeply_nested_does_not_recurse():
    html = "<div>" * 3000 + "深层" + "</div>" * 3000
    assert html_to_text(html) == "深层"


def test_read_bytes_html_by_suffix():
    data = PAGE.encode("gbk")
    doc = read_bytes(data, "page.htm", suffix=".HTM")
    assert doc.encoding == "gb18030"
    assert doc.text.startswith("2023年政府工作报告\n")
    raw = read_bytes(data, "page.txt", suffix=".txt")
    assert "<script>" in raw.text  # not HTML: kept as is


def test_html_without_text_is_empty():
    with pytest.raises(EmptyDocumentError, match=r"^p\.html: .*HTML"):
        read_bytes(b"<html><head><title>x</title></head><body><script>1</script></body></html>",
                   "p.html", suffix=".html")


# ---------------------------------------------------------------------------------------------
# strings, bytes, single files
# ---------------------------------------------------------------------------------------------

def test_read_text():
    doc = read_text("脱贫户776户\r\n1605人")
    assert doc == Document(doc_id="<string>", text="脱贫户776户\r\n1605人", encoding=None, source=None)
    assert read_text("x", doc_id="abc").doc_id == "abc"


@pytest.mark.parametrize("text", ["", "  \n\t\u3000 "])
def test_read_text_empty(text):
    with pytest.raises(EmptyDocumentError, match="^memo: empty"):
        read_text(text, doc_id="memo")


def test_read_bytes_empty_and_bom_only():
    with pytest.raises(EmptyDocumentError, match="^b: "):
        read_bytes(b"", "b")
    with pytest.raises(EmptyDocumentError, match="^b: "):
        read_bytes(b"\xef\xbb\xbf \r\n", "b")


def test_read_file_text_and_keeps_text_exactly(tmp_path):
    p = tmp_path / "r.txt"
    p.write_bytes(b"\xef\xbb\xbf" + "第一行\r\n第二行\n".encode())
    doc = read_file(p)
    assert doc == Document(doc_id=str(p), text="第一行\r\n第二行\n", encoding="utf-8-sig", source=str(p))


def test_read_file_missing_and_directory(tmp_path):
    with pytest.raises(UnreadableFileError, match=r"nope\.txt: no such file"):
        read_file(tmp_path / "nope.txt")
    d = tmp_path / "folder.txt"
    d.mkdir()
    with pytest.raises(UnreadableFileError, match=r"folder\.txt: is a directory"):
        read_file(d)


def test_read_file_permission_denied(tmp_path, monkeypatch):
    p = tmp_path / "secret.txt"
    p.write_text("内容", encoding="utf-8")

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(UnreadableFileError, match=r"secret\.txt: permission denied"):
        read_file(p)
    items = list(iter_documents(p))
    assert len(items) == 1 and isinstance(items[0], UnreadableFileError)
    assert items[0].doc_id == str(p)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_read_file_chmod_000(tmp_path):
    p = tmp_path / "locked.txt"
    p.write_text("内容", encoding="utf-8")
    p.chmod(0)
    try:
        with pytest.raises(UnreadableFileError, match="locked"):
            read_file(p)
    finally:
        p.chmod(0o644)


def test_read_file_refuses_containers(tmp_path):
    with pytest.raises(ValueError, match="iter_documents"):
        read_file(tmp_path / "x.jsonl")


# ---------------------------------------------------------------------------------------------
# folders
# ---------------------------------------------------------------------------------------------

def test_folder_recursion_order_encodings_and_skips(tmp_path):
    root = tmp_path / "reports"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a").mkdir()
    (root / ".git").mkdir()
    (root / "b" / "deep" / "z.txt").write_bytes("深层".encode("utf-16"))
    (root / "b" / "c.md").write_bytes("# 标题".encode("utf-8"))
    (root / "a" / "x.html").write_bytes("<p>网页</p>".encode("gbk"))
    (root / "a.txt").write_bytes("鄉村振興".encode("big5"))
    (root / "0.txt").write_text("零", encoding="utf-8")
    (root / "notes.docx").write_bytes(b"PK\x03\x04 torn")
    (root / "data.csv").write_text("a,b", encoding="utf-8")
    (root / ".hidden.txt").write_text("隐藏", encoding="utf-8")
    (root / ".git" / "HEAD.txt").write_text("x", encoding="utf-8")

    skipped: list[str] = []
    items = list(iter_documents(root, skipped=skipped))
    docs = [i for i in items if isinstance(i, Document)]
    # a Word file is read, not skipped: this torn one is an error naming it
    assert [(type(i), i.doc_id) for i in items if not isinstance(i, Document)] == [
        (UnreadableFileError, str(root / "notes.docx"))]
    assert [d.doc_id for d in docs] == [
        str(root / "0.txt"),
        str(root / "a" / "x.html"),
        str(root / "a.txt"),
        str(root / "b" / "c.md"),
        str(root / "b" / "deep" / "z.txt"),
    ]
    assert [d.text for d in docs] == ["零", "网页", "鄉村振興", "# 标题", "深层"]
    assert [d.encoding for d in docs] == ["utf-8", "gb18030", "big5", "utf-8", "utf-16"]
    assert docs[1].source == str(root / "a" / "x.html")
    assert sorted(skipped) == sorted([str(root / ".git"), str(root / ".hidden.txt"), str(root / "data.csv")])
    # the same order every time, and through a string path too
    again = [i.doc_id for i in iter_documents(str(root)) if isinstance(i, Document)]
    assert again == [d.doc_id for d in docs]


def test_explicit_file_with_unknown_extension_is_read(tmp_path):
    p = tmp_path / "report.dat"
    p.write_text("报告正文", encoding="utf-8")
    assert read_documents([p])[0].text == "报告正文"


def test_bad_document_in_folder_is_reported_and_rest_go_on(tmp_path):
    (tmp_path / "1.txt").write_text("第一", encoding="utf-8")
    (tmp_path / "2.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "3.txt").write_text("   \n ", encoding="utf-8")
    (tmp_path / "4.txt").write_text("第四", encoding="utf-8")
    items = list(iter_documents(tmp_path))
    assert [type(i) for i in items] == [Document, BinaryContentError, EmptyDocumentError, Document]
    assert items[1].doc_id == str(tmp_path / "2.txt") and str(tmp_path / "2.txt") in str(items[1])
    assert items[2].doc_id == str(tmp_path / "3.txt")
    with pytest.raises(BinaryContentError, match="2.txt"):
        read_documents(tmp_path)


def test_missing_input_is_yielded_and_others_go_on(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("好", encoding="utf-8")
    missing = tmp_path / "missing"
    items = list(iter_documents([missing, good]))
    assert isinstance(items[0], UnreadableFileError) and items[0].doc_id == str(missing)
    assert "no such file" in str(items[0])
    assert isinstance(items[1], Document) and items[1].text == "好"


# ---------------------------------------------------------------------------------------------
# JSONL
# ---------------------------------------------------------------------------------------------

def test_jsonl_ids_lines_and_bad_lines(tmp_path):
    p = tmp_path / "data.jsonl"
    lines = [
        json.dumps({"id": "r-1", "text": "第一篇"}, ensure_ascii=False),
        json.dumps({"text": "第二篇"}, ensure_ascii=False),
        "{not json",
        "",
        json.dumps(["a list"]),
        json.dumps({"id": 7, "text": "第七篇"}, ensure_ascii=False),
        json.dumps({"id": "x", "body": "no text"}),
        json.dumps({"id": {"a": 1}, "text": "bad id"}),
        json.dumps({"text": "  "}),
        json.dumps({"text": 5}),
        json.dumps({"text": "最后"}, ensure_ascii=False),
    ]
    p.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8") + b"\n\xff\xfe\n")
    items = list(iter_documents(p))
    docs, errors = docs_and_errors(items)
    assert [(d.doc_id, d.text) for d in docs] == [
        ("r-1", "第一篇"), (f"{p}:2", "第二篇"), ("7", "第七篇"), (f"{p}:11", "最后")]
    assert all(d.encoding == "utf-8" and d.source == str(p) for d in docs)
    assert [(type(e), e.doc_id) for e in errors] == [
        (JsonlRecordError, f"{p}:3"),
        (JsonlRecordError, f"{p}:5"),
        (JsonlRecordError, f"{p}:7"),
        (JsonlRecordError, f"{p}:8"),
        (EmptyDocumentError, f"{p}:9"),
        (JsonlRecordError, f"{p}:10"),
        (JsonlRecordError, f"{p}:12"),
    ]
    assert "invalid JSON" in str(errors[0]) and str(errors[0]).startswith(f"{p}:3: ")
    assert "expected a JSON object" in str(errors[1])
    assert "'text' is missing" in str(errors[2])
    assert "'id'" in str(errors[3])
    assert "not a string" in str(errors[5])
    assert "UTF-8" in str(errors[6])
    # order is file order: the error for line 3 comes between documents 2 and 7
    assert [getattr(i, "doc_id") for i in items][:3] == ["r-1", f"{p}:2", f"{p}:3"]


def test_jsonl_empty_text_with_id_names_the_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"id": "abc", "text": ""}) + "\n", encoding="utf-8")
    (err,) = list(iter_documents(p))
    assert isinstance(err, EmptyDocumentError) and err.doc_id == "abc"
    assert f"{p}:1" in str(err)


# ---------------------------------------------------------------------------------------------
# archives
# ---------------------------------------------------------------------------------------------

def test_zip_members_in_order_with_ids(tmp_path):
    z = make_zip(tmp_path / "reports.zip", {
        "2023/县报告.txt": SIMPLIFIED.encode("gbk"),
        "2023/台灣.txt": TRADITIONAL.encode("big5"),
        "page.html": "<p>网页</p><script>x</script>".encode("utf-8"),
        "records.jsonl": (json.dumps({"text": "一"}, ensure_ascii=False) + "\n{bad\n").encode("utf-8"),
        "image.png": b"\x89PNG\x00\x00",
        "inner.zip": b"PK",
        "__MACOSX/2023/._县报告.txt": b"\x00\x05\x16\x07",
        "folder/": b"",
    })
    skipped: list[str] = []
    items = list(iter_documents(z, skipped=skipped))
    docs, errors = docs_and_errors(items)
    assert [(d.doc_id, d.encoding) for d in docs] == [
        (f"{z}!2023/县报告.txt", "gb18030"),
        (f"{z}!2023/台灣.txt", "big5"),
        (f"{z}!page.html", "utf-8"),
        (f"{z}!records.jsonl:1", "utf-8"),
    ]
    assert docs[0].text == SIMPLIFIED and docs[1].text == TRADITIONAL and docs[2].text == "网页"
    assert all(d.source == str(z) for d in docs[:3]) and docs[3].source == f"{z}!records.jsonl"
    assert [type(e) for e in errors] == [JsonlRecordError, UnsupportedFormatError]
    assert errors[0].doc_id == f"{z}!records.jsonl:2"
    assert errors[1].doc_id == f"{z}!image.png" and "OCR it first" in str(errors[1])  # reported, not skipped
    assert skipped == [f"{z}!inner.zip", f"{z}!__MACOSX/2023/._县报告.txt"]


def test_zip_gbk_member_names_without_utf8_flag(tmp_path):
    z = tmp_path / "gbk.zip"
    raw_name = "报告.txt".encode("gbk")
    placeholder = b"XXXX.txt"
    assert len(placeholder) == len(raw_name)
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(placeholder.decode(), "内容".encode("gbk"))
    # how Windows tools store Chinese names: GBK bytes, no UTF-8 flag
    z.write_bytes(z.read_bytes().replace(placeholder, raw_name))
    (doc,) = read_documents(z)
    assert doc.doc_id == f"{z}!报告.txt" and doc.text == "内容"


def test_zip_with_parent_member_is_unsafe_and_rest_read(tmp_path):
    z = make_zip(tmp_path / "evil.zip", {"../evil.txt": b"evil", "ok.txt": "安全".encode()})
    items = list(iter_documents(z))
    assert isinstance(items[0], UnsafeMemberError)
    assert items[0].doc_id == f"{z}!../evil.txt" and "'..'" in str(items[0])
    assert isinstance(items[1], Document) and items[1].text == "安全"
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("mode, name", [("w", "x.tar"), ("w:gz", "x.tar.gz"), ("w:gz", "x.tgz")])
def test_tar_members(tmp_path, mode, name):
    t = make_tar(tmp_path / name, {
        "./a.txt": "甲".encode("utf-16"),
        "dir/b.htm": "<div>乙</div>".encode("big5"),
        "c.bin": b"\x00",
    }, mode)
    skipped: list[str] = []
    docs = read_documents(t, skipped=skipped)
    assert [(d.doc_id, d.text, d.encoding) for d in docs] == [
        (f"{t}!./a.txt", "甲", "utf-16"), (f"{t}!dir/b.htm", "乙", "big5")]
    assert skipped == [f"{t}!c.bin"]


def test_tar_with_absolute_member(tmp_path):
    t = make_tar(tmp_path / "abs.tar", {"/etc/evil.txt": b"evil", "fine.txt": "正常".encode()})
    items = list(iter_documents(t))
    assert isinstance(items[0], UnsafeMemberError)
    assert items[0].doc_id == f"{t}!/etc/evil.txt" and "absolute" in str(items[0])
    assert isinstance(items[1], Document) and items[1].text == "正常"


def test_tar_links_are_skipped(tmp_path):
    t = tmp_path / "links.tar"
    with tarfile.open(t, "w") as tf:
        info = tarfile.TarInfo("link.txt")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    skipped: list[str] = []
    assert list(iter_documents(t, skipped=skipped)) == []
    assert skipped == [f"{t}!link.txt"]


def test_zip_bomb_declared_size(tmp_path):
    z = make_zip(tmp_path / "bomb.zip", {"big.txt": b"a" * 1024, "small.txt": b"b"})
    items = list(iter_documents(z, max_unpacked_bytes=100))
    assert len(items) == 1 and isinstance(items[0], ArchiveTooLargeError)
    assert items[0].doc_id == str(z) and "max_unpacked_bytes=100" in str(items[0])
    # under a sufficient limit the same archive reads fine
    assert len(read_documents(z, max_unpacked_bytes=2000)) == 2


def test_tar_bomb_counted_while_streaming(tmp_path):
    t = make_tar(tmp_path / "bomb.tar.gz", {"a.txt": b"a" * 60, "b.txt": b"b" * 1024, "c.txt": b"c"}, "w:gz")
    items = list(iter_documents(t, max_unpacked_bytes=100))
    assert isinstance(items[0], Document) and items[0].text == "a" * 60
    assert isinstance(items[1], ArchiveTooLargeError) and items[1].doc_id == f"{t}!b.txt"
    assert "max_unpacked_bytes=100" in str(items[1])
    assert len(items) == 2  # reading stopped at the member that crossed the limit


def test_read_capped_counts_actual_bytes():
    assert _read_capped(io.BytesIO(b"x" * 100), 100) == b"x" * 100
    with pytest.raises(_LimitExceeded):
        _read_capped(io.BytesIO(b"x" * 101), 100)


def test_corrupt_archives(tmp_path):
    z = tmp_path / "broken.zip"
    z.write_bytes(b"this is not a zip file at all")
    t = tmp_path / "broken.tar.gz"
    t.write_bytes(b"\x1f\x8b\x08\x00garbage")
    good = tmp_path / "good.txt"
    good.write_text("好", encoding="utf-8")
    items = list(iter_documents([z, t, good]))
    assert isinstance(items[0], UnreadableFileError) and items[0].doc_id == str(z) and "zip" in str(items[0])
    assert isinstance(items[1], UnreadableFileError) and items[1].doc_id == str(t)
    assert isinstance(items[2], Document)


def test_truncated_tar_reports_after_good_members(tmp_path):
    full = make_tar(tmp_path / "full.tar", {"a.txt": "甲".encode(), "b.txt": "乙".encode() * 2000})
    cut = tmp_path / "cut.tar"
    cut.write_bytes(full.read_bytes()[:2048])
    items = list(iter_documents(cut))
    assert isinstance(items[0], Document) and items[0].text == "甲"
    assert isinstance(items[-1], UnreadableFileError) and str(cut) in str(items[-1])


def test_zip_member_bad_content_names_member(tmp_path):
    z = make_zip(tmp_path / "m.zip", {"bin.txt": b"\x00\x01", "empty.md": b"  ", "ok.txt": "好".encode()})
    items = list(iter_documents(z))
    assert [type(i) for i in items] == [BinaryContentError, EmptyDocumentError, Document]
    assert items[0].doc_id == f"{z}!bin.txt" and items[1].doc_id == f"{z}!empty.md"


def test_zip_member_with_bad_crc_names_member_and_rest_go_on(tmp_path):
    z = tmp_path / "crc.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.txt", b"ORIGINAL-CONTENT")
        zf.writestr("b.txt", "好".encode())
    z.write_bytes(z.read_bytes().replace(b"ORIGINAL-CONTENT", b"TAMPERED-CONTENT"))
    items = list(iter_documents(z))
    assert isinstance(items[0], UnreadableFileError) and items[0].doc_id == f"{z}!a.txt"
    assert isinstance(items[1], Document) and items[1].text == "好"


def test_archive_inside_folder_is_read(tmp_path):
    (tmp_path / "in").mkdir()
    z = make_zip(tmp_path / "in" / "a.zip", {"x.txt": "压缩".encode()})
    docs = read_documents(tmp_path / "in")
    assert [d.doc_id for d in docs] == [f"{z}!x.txt"]


def test_reader_object_collects_skipped(tmp_path):
    (tmp_path / "a.csv").write_text("x", encoding="utf-8")
    reader = DocumentReader(max_unpacked_bytes=10)
    assert list(reader.iter_documents(tmp_path)) == []
    assert reader.skipped == [str(tmp_path / "a.csv")]
    with pytest.raises(ValueError):
        DocumentReader(max_unpacked_bytes=-1)

"""The HTML view (zhibiao.render, ``zhibiao render``) without a browser: the page holds the exact
text (escaped), one mark per entity at its offsets, links paired by colour and number, low
confidence marked, the records table, nothing external; several documents and unreadable ones.
tests/test_render_browser.py loads a seed's page in headless Chromium."""
from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser

import pytest

from zhibiao.cli import main
from zhibiao.extract import Extractor, load
from zhibiao.records import INDICATOR, QUANTITY, Link, Prediction, Span
from zhibiao.render import LOW_CONFIDENCE, document_section, page, render_html
from zhibiao.taxonomy import Taxonomy

TEXT = "<b>通报</b> & 说明:\n大佛镇脱贫户776户1605人,监测户94户;新增3户。\n對全鎮(zhèn)監測對象２３戶。"


def _span(text: str, sub: str, label: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = text.index(sub, start + 1)
    return Span(start, start + len(sub), label, sub)


class _Fixed:
    """A predictor that returns the predictions it was made with (by text)."""

    def __init__(self, *preds: Prediction):
        self.by_text = {p.text: p for p in preds}

    def predict_documents(self, texts, doc_ids=None, batch_size=64):
        ids = list(doc_ids) if doc_ids is not None else [None] * len(texts)
        return [Prediction(i, t, self.by_text[t].spans, self.by_text[t].links) for t, i in zip(texts, ids)]


def _prediction() -> Prediction:
    ind, q1, q2 = _span(TEXT, "脱贫户", INDICATOR), _span(TEXT, "776户", QUANTITY), _span(TEXT, "1605人", QUANTITY)
    ind2, q3 = _span(TEXT, "监测户", INDICATOR), _span(TEXT, "94户", QUANTITY)
    free_q = _span(TEXT, "3户", QUANTITY)
    trad_i, trad_q = _span(TEXT, "監測對象", INDICATOR), _span(TEXT, "２３戶", QUANTITY)
    return Prediction("doc<1>", TEXT, spans=[ind, q1, q2, ind2, q3, free_q, trad_i, trad_q],
                      links=[Link(q1, ind, 0.98), Link(q2, ind, 0.91), Link(q3, ind2, 0.31), Link(trad_q, trad_i, 0.7)])


@pytest.fixture(scope="module")
def fixed():
    return Extractor(_Fixed(_prediction()), Taxonomy.load(), name="fixed")


class _Page(HTMLParser):
    """The marks (attributes + text) and the text of each ``div.text`` of a page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.marks: list[dict] = []
        self.texts: list[str] = []
        self._in_text = 0
        self._mark: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and a.get("class") == "text":
            self._in_text = 1
            self.texts.append("")
        elif tag == "mark":
            self._mark = dict(a, text="")
            self.marks.append(self._mark)

    def handle_endtag(self, tag):
        if tag == "mark":
            self._mark = None
        elif tag == "div" and self._in_text:
            self._in_text = 0

    def handle_data(self, data):
        if self._in_text:
            self.texts[-1] += data
        if self._mark is not None:
            self._mark["text"] += data


def test_page_holds_the_exact_text_and_one_mark_per_entity(fixed):
    html = render_html(fixed, [(TEXT, "doc<1>")])
    assert "<b>通报</b>" not in html and "&lt;b&gt;通报&lt;/b&gt; &amp; 说明" in html
    assert "doc&lt;1&gt;" in html and "doc<1>" not in html
    parsed = _Page(html)
    assert parsed.texts == [TEXT]  # escaping undone, the marks' text included: the original, character for character
    want = sorted((s.start, s.end, s.label) for s in _prediction().spans)
    got = sorted((int(m["data-start"]), int(m["data-end"]), m["data-label"]) for m in parsed.marks)
    assert got == want
    for m in parsed.marks:
        assert m["text"] == TEXT[int(m["data-start"]):int(m["data-end"])]


def test_links_pair_by_colour_and_number_and_low_confidence_is_marked(fixed):
    marks = {m["text"]: m for m in _Page(render_html(fixed, [TEXT])).marks}
    assert marks["776户"]["data-g"] == marks["1605人"]["data-g"] == marks["脱贫户"]["data-g"]
    assert marks["776户"]["style"] == marks["脱贫户"]["style"] != marks["监测户"]["style"]
    assert marks["94户"]["data-g"] == marks["监测户"]["data-g"] != marks["脱贫户"]["data-g"]
    assert marks["776户"]["data-n"] == "1" and marks["94户"]["data-n"] == "2"
    assert 0.31 < LOW_CONFIDENCE < 0.7
    assert "low" in marks["94户"]["class"].split() and "low confidence" in marks["94户"]["title"]
    assert "low" not in marks["776户"]["class"].split() and "low" not in marks["２３戶"]["class"].split()
    assert "free" in marks["3户"]["class"].split() and "data-g" not in marks["3户"]
    assert "poverty_exited" in marks["脱贫户"]["title"] and "776户" in marks["脱贫户"]["title"]


def test_records_table_has_a_row_per_record_and_shades_low_confidence(fixed):
    records = fixed(TEXT)
    assert len(records) == 4
    html = render_html(fixed, [TEXT])
    table = html[html.index('<table class="records">'):]
    assert table.count("<tr") == 1 + len(records)
    assert table.count('class="low"') == 1
    assert '<a href="#d1-q' in table and "776户" in table and "0.31" in table
    with_unlinked = render_html(fixed, [TEXT], all_quantities=True)
    assert with_unlinked[with_unlinked.index('<table class="records">'):].count("<tr") == 1 + len(records) + 1


def test_page_is_self_contained():
    pred = _prediction()
    html = page([document_section(pred, [], 1)])
    assert not re.search(r"""(src|href)\s*=\s*["']?(?!#)""", html)  # in-page anchors only
    assert "http://" not in html and "https://" not in html and "@import" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert html.count("<script>") == 1 and html.startswith("<!DOCTYPE html>") and 'charset="utf-8"' in html


def test_render_html_refuses_a_swapped_pair(fixed):
    with pytest.raises(ValueError, match=r"\(text, context\)"):
        render_html(fixed, [("doc-1", TEXT)])


def test_long_traditional_document_renders_in_linear_time():
    nlp = load("rules")
    unit = "對全鎮(zhèn)監測對象２３戶７８人進行識別,發放補貼54.3萬(wàn)元。脫貧戶776戶1605人。\n"
    timings = []
    for n in (60, 240):
        text = unit * n
        pred = nlp.predict([text])[0]
        records = nlp.records(pred)
        t = time.process_time()
        html = page([document_section(pred, records, 1)])
        timings.append(time.process_time() - t)
        parsed = _Page(html)
        assert parsed.texts == [text]
        assert len(parsed.marks) == len(pred.to_annotated().entities) >= 3 * n
    assert timings[1] < 10 * timings[0] + 0.5  # 4x the text: far from quadratic (CPU time: load-proof)


def test_render_command_several_documents_and_an_unreadable_one(tmp_path, capsys):
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("\n".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in
                               [("a", "大佛镇脱贫户776户1605人。"), ("b", "監測對象２３戶<br>&amp;")]) + "\n",
                     encoding="utf-8")
    out = tmp_path / "report.html"
    status = main(["render", str(jsonl), str(tmp_path / "missing.txt"), "-o", str(out), "--model", "rules"])
    assert status == 1
    err = capsys.readouterr().err
    assert "3 documents, 1 failed" in err and "missing.txt" in err
    html = out.read_text(encoding="utf-8")
    assert html.count('<section class="doc"') == 2 and html.count('<section class="doc error"') == 1
    assert "<nav>" in html and "&lt;br&gt;&amp;amp;" in html
    assert [t for t in _Page(html).texts] == ["大佛镇脱贫户776户1605人。", "監測對象２３戶<br>&amp;"]
    ok = main(["render", str(jsonl), "-o", str(tmp_path / "ok.html"), "--model", "rules"])
    assert ok == 0


def test_render_into_a_missing_folder_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "no" / "such"
    with pytest.raises(SystemExit) as exc:
        main(["render", str(tmp_path), "-o", str(missing / "r.html"), "--model", "rules"])
    assert exc.value.code == 2 and f"output folder {missing} does not exist" in capsys.readouterr().err

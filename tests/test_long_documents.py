"""Linear time in a document's length (issue 16, case 5): one long single-line report costs about
what the same text cut into many short documents costs, and twice the text about twice the time;
deeply nested HTML is read in linear time too."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

import zhibiao
from zhibiao.ingest import html as html_module
from zhibiao.ingest.html import MAX_NESTING, html_to_text
from zhibiao.sentences import sentence_of, sentence_starts, split_sentences

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from long_document import cut_short, synthetic_text  # noqa: E402


def _best_of(n: int, fn) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _long_and_short(nlp, kb: int) -> tuple[float, float, float]:
    """Seconds for one single-line text of ``kb`` KB, for it as 20 short documents, and for the
    single line of twice the size (best of 2 each)."""
    text = synthetic_text(kb / 1024)
    parts = cut_short(text, kb / 20)
    double = synthetic_text(2 * kb / 1024)
    assert "\n" not in text and len(parts) >= 15
    long_s = _best_of(2, lambda: nlp(text))
    short_s = _best_of(2, lambda: list(nlp.pipe(parts)))
    double_s = _best_of(2, lambda: nlp(double))
    assert sum(len(r) for r in nlp.pipe(parts)) == len(nlp(text))  # the same records either way
    return long_s, short_s, double_s


def test_sentence_of_with_precomputed_starts():
    text = "甲。乙！\n丙"
    spans = split_sentences(text)
    starts = sentence_starts(spans)
    for k in range(len(text)):
        assert sentence_of(spans, k, starts) == sentence_of(spans, k)
    assert sentence_of(spans, text.index("丙"), starts) == 2


def test_records_linear_in_document_length_rules():
    """Record building (sentence look-ups, qualifiers) over the rule baseline: 200 KB in one line
    against 20 x 10 KB, and 400 KB against 200 KB."""
    long_s, short_s, double_s = _long_and_short(zhibiao.load("rules"), 200)
    assert long_s < 3 * short_s, (long_s, short_s)
    assert double_s < 3 * long_s, (long_s, double_s)


@pytest.mark.slow
def test_model_linear_in_document_length():
    """The shipped model end to end (normalise, windows, network, links, records)."""
    long_s, short_s, double_s = _long_and_short(zhibiao.load(threads=1), 200)
    assert long_s < 3 * short_s, (long_s, short_s)
    assert double_s < 3 * long_s, (long_s, double_s)


def test_records_share_one_sentence_string():
    nlp = zhibiao.load("rules")
    recs = nlp("全县脱贫户776户1605人，新建农村公路12公里。", doc_id="x")
    assert len({id(r.sentence) for r in recs}) == 1 and len(recs) >= 2


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

def test_html_200k_nested_divs_in_linear_time():
    n = 200_000
    t = time.perf_counter()
    assert html_to_text("<div>" * n + "脱贫户776户" + "</div>" * n) == "脱贫户776户"
    big = time.perf_counter() - t
    t = time.perf_counter()
    html_to_text("<div>" * (n // 4) + "脱贫户776户" + "</div>" * (n // 4))
    small = time.perf_counter() - t
    assert big < 20 and big < 8 * max(small, 0.05), (small, big)


def test_html_many_empty_text_nodes_in_linear_time():
    def page(n: int) -> str:
        return "<p>" + "<b> </b>" * n + "甲</p>"

    small = _best_of(2, lambda: html_to_text(page(20_000)))
    big = _best_of(2, lambda: html_to_text(page(80_000)))
    assert html_to_text(page(10)) == "甲"
    assert big < 12 * max(small, 0.1), (small, big)  # 4x the nodes; quadratic was 16x (25,000 nodes: 21 s)


def test_html_flat_pass_lays_out_like_the_parser():
    from test_ingest import PAGE

    lines = html_module._Lines()
    html_module._flat_pass(PAGE, lines)
    assert lines.text() == html_to_text(PAGE)
    nested = "<div>" * (MAX_NESTING + 1) + PAGE + "</div>" * (MAX_NESTING + 1)
    assert html_to_text(nested) == html_to_text(PAGE)


def test_html_nesting_depth_counts_tags_not_void_elements():
    assert html_module._nesting_depth("<div><p>a<br><img src=x></p><div/></div>") == 2
    assert html_module._nesting_depth("<!-- <div><div> --><div></div>") == 1

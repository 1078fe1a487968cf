"""The rendered page of a seed report in a real browser: headless Chromium (Debian's ``chromium``;
``.ci/run`` installs it) loads it with no console message at all (an error, a script exception,
a blocked external load: the page's Content-Security-Policy reports any as a console error), the
page's script ran, and the DOM holds exactly one ``<mark>`` per predicted entity, at its offsets.
Where no Chromium is found the tests skip and say so; ``ZHIBIAO_CHROMIUM`` names another binary."""
from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import zhibiao
from zhibiao.extract import default_model_path
from zhibiao.render import render_html

SHIPPED = (default_model_path() / "model.safetensors").exists()
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str:
    explicit = os.environ.get("ZHIBIAO_CHROMIUM")
    found = explicit if explicit and shutil.which(explicit) else next(filter(None, map(shutil.which, CANDIDATES)), None)
    if not found:
        pytest.skip("headless Chromium not found (looked for ZHIBIAO_CHROMIUM, " + ", ".join(CANDIDATES)
                    + "): install Debian's `chromium` (apt-get install -y chromium) to run the browser test of "
                      "`zhibiao render`")
    return found


@pytest.fixture(scope="module")
def chromium() -> str:
    return _chromium()


def load_in_chromium(browser: str, page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """``(dom after load, console messages)`` of ``page`` in headless Chromium."""
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
           "--dump-dom", page.resolve().as_uri()]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail(f"headless Chromium did not finish loading {page} in 300 s")
    assert res.returncode == 0, res.stderr[-2000:]
    console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
    return res.stdout, console


class _Marks(HTMLParser):
    def __init__(self, dom: str):
        super().__init__(convert_charrefs=True)
        self.marks: list[dict] = []
        self.body: dict = {}
        self._open: dict | None = None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        if tag == "mark":
            self._open = dict(attrs, text="")
            self.marks.append(self._open)
        elif tag == "body":
            self.body = dict(attrs)

    def handle_endtag(self, tag):
        if tag == "mark":
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data


def test_console_messages_are_caught(chromium, tmp_path):
    """The check below can fail: a page with a script error and a blocked external image is seen."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
                   "content=\"default-src 'none'; script-src 'unsafe-inline'\"><p>脱贫户</p>"
                   '<img src="https://example.invalid/x.png"><script>undefinedFunction();</script>', encoding="utf-8")
    _, console = load_in_chromium(chromium, bad, tmp_path)
    assert any("undefinedFunction" in line for line in console)
    assert any("Content Security Policy" in line for line in console)


@pytest.mark.skipif(not SHIPPED, reason="the shipped model (models/default/model.safetensors) is absent; the rules "
                                        "model is rendered in the next test")
def test_seed_page_in_chromium_shipped_model(chromium, seed_dir, tmp_path):
    _check_seed_page(chromium, zhibiao.load(), seed_dir, tmp_path)


def test_seed_page_in_chromium_rules(chromium, seed_dir, tmp_path):
    _check_seed_page(chromium, zhibiao.load("rules"), seed_dir, tmp_path)


def _check_seed_page(browser: str, nlp, seed_dir: Path, tmp_path: Path) -> None:
    seed = sorted(seed_dir.glob("*.txt"))[0]
    text = seed.read_text(encoding="utf-8")
    page = tmp_path / "report.html"
    page.write_text(render_html(nlp, [(text, seed.name)]), encoding="utf-8")
    dom, console = load_in_chromium(browser, page, tmp_path)
    assert console == []
    parsed = _Marks(dom)
    assert parsed.body.get("data-ready") == "1"  # the page's script ran to its end
    entities = nlp.predict([text], [seed.name])[0].to_annotated().entities
    assert len(entities) > 20
    assert len(parsed.marks) == len(entities)
    assert sorted((int(m["data-start"]), int(m["data-end"]), m["data-label"]) for m in parsed.marks) == \
        sorted((e.start, e.end, e.label) for e in entities)
    for m in parsed.marks:
        assert m["text"] == text[int(m["data-start"]):int(m["data-end"])]


def test_hovering_a_quantity_highlights_its_link_group(chromium, seed_dir, tmp_path):
    """The page's script in a real browser: a mouseover on a linked quantity marks (class ``hl``)
    exactly the elements of its link group: the indicator, its quantities and their table rows."""
    nlp = zhibiao.load("rules")
    seed = sorted(seed_dir.glob("*.txt"))[0]
    html = render_html(nlp, [(seed.read_text(encoding="utf-8"), seed.name)])
    probe = ("<script>var m=document.querySelector('mark.q[data-g]');"
             "m.dispatchEvent(new MouseEvent('mouseover',{bubbles:true}));"
             "document.body.setAttribute('data-hl-group',m.getAttribute('data-g'));"
             "document.body.setAttribute('data-hl-count',document.querySelectorAll('.hl').length);</script>")
    page = tmp_path / "hover.html"
    page.write_text(html.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom, console = load_in_chromium(chromium, page, tmp_path)
    assert console == []
    body = _Marks(dom).body
    group = body["data-hl-group"]
    members = dom.count(f'data-g="{group}"')
    assert members >= 3 and int(body["data-hl-count"]) == members

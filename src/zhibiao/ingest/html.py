"""HTML to text: :func:`html_to_text`, one block per line, as a browser lays the page out."""
from __future__ import annotations

import re
from html import unescape

__all__ = ["html_to_text", "MAX_NESTING"]

_DROP_TAGS = frozenset({"script", "style", "nav", "noscript", "head", "title", "template", "svg",
                        "math", "iframe", "object", "embed", "canvas"})
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend",
    "li", "main", "menu", "ol", "optgroup", "option", "p", "pre", "section", "summary", "table",
    "tbody", "textarea", "tfoot", "thead", "tr", "ul",
})
_CELL_TAGS = frozenset({"td", "th"})
_WIDE = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
# CSS Text 3: a segment break between two East Asian wide characters disappears
_CJK_SEGMENT_BREAK = re.compile(rf"(?<=[{_WIDE}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_WIDE}])")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
_LINE_SPACE = " \t\r\f\v\u3000\xa0"
#: elements without an end tag: they do not nest
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                        "source", "track", "wbr"})
#: a page nested deeper than this is read by a flat pass over its tags (the HTML parser takes
#: time quadratic in the depth: 25,000 nested <div> took 24 s, 200,000 would take half an hour)
MAX_NESTING = 1000
_TAG = re.compile(r"<!--.*?(?:-->|$)|<![^>]*>|<\?[^>]*>|<(/?)([A-Za-z][^\s/>]*)[^>]*>", re.S)


def html_to_text(html: str) -> str:
    """Turn an HTML page into text, one block per line.

    Block elements (``p``, ``div``, ``li``, ``tr``, ``h1``-``h6``, ``section``, ``table``, ...)
    start and end lines, each ``<br>`` ends a line, table cells are separated by a tab.
    ``script``, ``style``, ``nav``, ``noscript``, ``head`` (with ``title``), ``template``, ``svg``,
    ``iframe`` and similar are dropped, as are comments. Entities are unescaped. Inside a line
    HTML whitespace collapses to one space (and a source line break between two Chinese characters
    disappears, as browsers render it); ``<pre>`` keeps its line breaks. Lines are stripped
    (including full-width and no-break spaces) and blank lines collapse to at most one.

    Time is linear in the page's length: a page whose elements nest deeper than
    :data:`MAX_NESTING` is read by a flat pass over its tags (same rules, without the HTML
    parser's repair of malformed markup) instead of the parser, whose time grows with the square
    of the depth.
    """
    lines = _Lines()
    if _nesting_depth(html) > MAX_NESTING:
        _flat_pass(html, lines)
    else:
        _tree_walk(html, lines)
    return lines.text()


class _Lines:
    """The text being laid out; remembers its last character (no scan back over the pieces)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.last = "\n"
        self.pre_depth = 0

    def add(self, piece: str) -> None:
        if piece:
            self.out.append(piece)
            self.last = piece[-1]

    def text_node(self, text: str) -> None:
        if not self.pre_depth:
            text = _HTML_SPACE.sub(" ", _CJK_SEGMENT_BREAK.sub("", text))
            if text.startswith(" ") and self.last in " \t\n":
                text = text[1:]
        self.add(text)

    def soft_break(self) -> None:
        if self.last != "\n":
            self.add("\n")

    def start(self, tag: str) -> None:
        if tag == "br":
            self.add("\n")
        elif tag in _BLOCK_TAGS:
            self.soft_break()
            if tag == "pre":
                self.pre_depth += 1

    def end(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.soft_break()
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in _CELL_TAGS and self.last not in "\n\t":
            self.add("\t")

    def text(self) -> str:
        lines = [line.strip(_LINE_SPACE) for line in "".join(self.out).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _tree_walk(html: str, lines: _Lines) -> None:
    from selectolax.lexbor import LexborHTMLParser, LexborNode

    root = LexborHTMLParser(html).root
    if root is None:
        return
    # iterative walk (deeply nested pages must not hit the recursion limit): (node, entering)
    stack: list[tuple[LexborNode, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        tag = node.tag or ""
        if not entering:
            lines.end(tag)
            continue
        if tag == "-text":
            lines.text_node(node.text_content or "")
            continue
        if tag in _DROP_TAGS or tag.startswith("-") or tag.startswith("!"):
            continue  # comments, doctype, dropped elements
        lines.start(tag)
        if tag == "br":
            continue
        stack.append((node, False))
        children: list[LexborNode] = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, True) for c in reversed(children))


def _nesting_depth(html: str) -> int:
    """The deepest nesting of elements in ``html`` by its tags alone (one linear pass)."""
    depth = deepest = 0
    for m in _TAG.finditer(html):
        name = m.group(2)
        if name is None or m.group(0).endswith("/>") or name.lower() in _VOID_TAGS:
            continue
        if m.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _flat_pass(html: str, lines: _Lines) -> None:
    """Lay out ``html`` tag by tag, without building a tree: the fallback for extreme nesting."""
    pos = 0
    dropping: str | None = None  # inside a dropped element: its tag, until its end tag
    for m in _TAG.finditer(html):
        if dropping is None and m.start() > pos:
            lines.text_node(unescape(html[pos:m.start()]))
        pos = m.end()
        name = m.group(2)
        if name is None:
            continue  # comment, doctype, processing instruction
        tag, closing = name.lower(), bool(m.group(1))
        if dropping is not None:
            if closing and tag == dropping:
                dropping = None
        elif tag in _DROP_TAGS:
            if not closing and not m.group(0).endswith("/>"):
                dropping = tag
        elif closing:
            lines.end(tag)
        else:
            lines.start(tag)
    if dropping is None and pos < len(html):
        lines.text_node(unescape(html[pos:]))

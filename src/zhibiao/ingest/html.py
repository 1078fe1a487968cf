"""HTML to text: :func:`html_to_text`, one block per line, as a browser lays the page out."""
from __future__ import annotations

import re

__all__ = ["html_to_text"]

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


def html_to_text(html: str) -> str:
    """Turn an HTML page into text, one block per line.

    Block elements (``p``, ``div``, ``li``, ``tr``, ``h1``-``h6``, ``section``, ``table``, ...)
    start and end lines, each ``<br>`` ends a line, table cells are separated by a tab.
    ``script``, ``style``, ``nav``, ``noscript``, ``head`` (with ``title``), ``template``, ``svg``,
    ``iframe`` and similar are dropped, as are comments. Entities are unescaped. Inside a line
    HTML whitespace collapses to one space (and a source line break between two Chinese characters
    disappears, as browsers render it); ``<pre>`` keeps its line breaks. Lines are stripped
    (including full-width and no-break spaces) and blank lines collapse to at most one.
    """
    from selectolax.lexbor import LexborHTMLParser, LexborNode

    tree = LexborHTMLParser(html)
    root = tree.root
    if root is None:
        return ""
    out: list[str] = []

    def last_char() -> str:
        for piece in reversed(out):
            if piece:
                return piece[-1]
        return "\n"

    def soft_break() -> None:
        if last_char() != "\n":
            out.append("\n")

    pre_depth = 0
    # iterative walk (deeply nested pages must not hit the recursion limit): (node, entering)
    stack: list[tuple[LexborNode, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        tag = node.tag or ""
        if not entering:
            if tag in _BLOCK_TAGS:
                soft_break()
                if tag == "pre":
                    pre_depth -= 1
            elif tag in _CELL_TAGS and last_char() not in "\n\t":
                out.append("\t")
            continue
        if tag == "-text":
            text = node.text_content or ""
            if pre_depth:
                out.append(text)
            else:
                text = _HTML_SPACE.sub(" ", _CJK_SEGMENT_BREAK.sub("", text))
                if text.startswith(" ") and last_char() in " \t\n":
                    text = text[1:]
                out.append(text)
            continue
        if tag in _DROP_TAGS or tag.startswith("-") or tag.startswith("!"):
            continue  # comments, doctype, dropped elements
        if tag == "br":
            out.append("\n")
            continue
        if tag in _BLOCK_TAGS:
            soft_break()
            if tag == "pre":
                pre_depth += 1
        stack.append((node, False))
        children: list[LexborNode] = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, True) for c in reversed(children))

    lines = [line.strip(_LINE_SPACE) for line in "".join(out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")

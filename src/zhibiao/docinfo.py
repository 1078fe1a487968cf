"""A report's date and place, read best effort from its first lines (for ``zhibiao table``).

Reports put them in a header: ``乐至县大佛镇`` / ``发布时间:2023-11-21`` / ``录入:乐至县大佛镇``.
:func:`header_info` looks at the first lines of a text (:data:`HEADER_LINES` non-empty lines, at most
:data:`HEADER_CHARS` characters) and returns:

- ``date``: a date labelled as the report's (发布时间, 发文日期, 成文日期, 日期 ...: ``发布时间:2023-11-21``)
  where there is one, else the first date in reading order; at each place the most complete form
  there: a full date (``2023-11-21``, ``2023年11月21日``, ``2023/11/21``) as ``YYYY-MM-DD``, else a year
  and month (``2023年11月`` -> ``2023-11``), else a year (``2023年`` -> ``2023``); years 1949..2099 in
  Arabic digits (full-width too);
- ``place``: the first chain of administrative names (``四川省资阳市乐至县大佛镇``, ``乐至县大佛镇``,
  ``大佛镇``) ending in 县, 区, 旗, 镇, 乡, 街道, 村 or 社区, each name at least two characters before its
  suffix, at the start of a run of Chinese characters or after 作为 / 关于 / 现将 / 到 / 在 ...; a name
  holds no 县 / 镇 / 乡 / 村 of its own and no function word (是, 为, 了, 的, 和 ...), and words such as
  全镇, 我县, 各村, 乡村, 贫困村, 重点村, 驻村, 农村 are not places. It is given in simplified
  characters, without pinyin artefacts (the text as :func:`zhibiao.normalize.normalize` makes it).

Best effort: a header that states neither gives None; a report that names another place or date
first gives that one. Nothing here is guessed from the file name.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

__all__ = ["header_info", "header_text", "document_date", "document_place", "HEADER_LINES", "HEADER_CHARS"]

HEADER_LINES = 12
HEADER_CHARS = 800

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_Y = r"(?<!\d)(19[4-9]\d|20\d\d)"
_FULL_DATE = re.compile(_Y + r"\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})(?!\d)")
_YEAR_MONTH = re.compile(_Y + r"\s*年\s*(\d{1,2})\s*月")
_YEAR_ONLY = re.compile(_Y + r"\s*年")
_YEAR_AT = re.compile(_Y)
_LABEL = re.compile(r"(?:发布|发文|成文|印发|日期|时间)[^0-9\n]{0,12}(?=\d)")

_RUN = re.compile(f"[{_HAN}]+")
_LEAD = re.compile(r"(?:现将|关于|截至|截止|根据|对于|作为|发布|录入|来源|位于|地处|对|在|为|由|据|从|将|向|到|于|是|受|今年|全年|年|月|日)+")
_NAME = "[^县镇乡村]{2,5}?"  # matched inside runs of Chinese characters only
_CHAIN = re.compile(
    rf"(?:{_NAME}(?:省|自治区))?(?:{_NAME}(?:市|州|盟|地区))?(?:{_NAME}(?:县|区|旗))?"
    rf"(?:{_NAME}(?:镇|乡|街道))?(?:{_NAME}(?:村|社区))?"
)
_ENDS = ("县", "区", "旗", "镇", "乡", "街道", "村", "社区")
_NOT_FIRST = set("全我本各该每此其城农个年月日")
_NOT_BEFORE_SUFFIX = set("贫点范困心业级个类驻进到入政扶然农乡镇县村")
_NOT_NAMES = {"组织镇", "城镇", "乡镇", "村镇"}
_NOT_IN_NAME = set("是为了的在和及与对将把被从向等全我本各该其每此这那")


def header_text(text: str, lines: int = HEADER_LINES, chars: int = HEADER_CHARS) -> str:
    """The first ``lines`` non-empty lines of ``text``, at most ``chars`` characters."""
    out: list[str] = []
    for line in text.splitlines():
        if line.strip():
            out.append(line.strip())
            if len(out) >= lines:
                break
    return "\n".join(out)[:chars]


def _date_at(s: str, pos: int) -> str | None:
    m = _FULL_DATE.match(s, pos)
    if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = _YEAR_MONTH.match(s, pos)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    m = _YEAR_ONLY.match(s, pos)
    return m.group(1) if m else None


def document_date(text: str) -> str | None:
    """The date the text states (see the module docstring)."""
    s = unicodedata.normalize("NFKC", text)
    for m in _LABEL.finditer(s):
        date = _date_at(s, m.end())
        if date:
            return date
    for m in _YEAR_AT.finditer(s):
        date = _date_at(s, m.start())
        if date:
            return date
    return None


def _place_at(run: str) -> str | None:
    m = _CHAIN.match(run)
    if not m or not m.group(0) or not m.group(0).endswith(_ENDS) or m.group(0).endswith("地区"):
        return None
    name = m.group(0)
    last = next(e for e in _ENDS if name.endswith(e))
    if (name[0] in _NOT_FIRST or name[-len(last) - 1] in _NOT_BEFORE_SUFFIX or name in _NOT_NAMES
            or any(c in _NOT_IN_NAME for c in name[1:])):
        return None
    return name


def _place_in_run(run: str) -> str | None:
    lead = _LEAD.match(run)
    starts = [lead.end() if lead else 0] + [m.end() for m in _LEAD.finditer(run) if m.start() > 0]
    for k in starts:
        place = _place_at(run[k:])
        if place:
            return place
    return None


def document_place(text: str) -> str | None:
    """The place the text names first (see the module docstring)."""
    from .normalize import normalize

    for line in text.splitlines():
        for run in _RUN.findall(normalize(line).text):
            place = _place_in_run(run)
            if place:
                return place
    return None


def header_info(texts: str | Iterable[str]) -> dict[str, str | None]:
    """``{"date": ..., "place": ...}`` of a document's header (a text, or the first sentences of a
    document in order: each is looked at in turn, the first that states one gives it)."""
    parts = [texts] if isinstance(texts, str) else list(texts)
    date = next((d for d in map(document_date, parts) if d), None)
    place = next((p for p in map(document_place, parts) if p), None)
    return {"date": date, "place": place}

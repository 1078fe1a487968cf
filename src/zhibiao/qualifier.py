"""``Record.qualifier``: the word that makes a figure a part or a change of its indicator's group.

SPEC.md, Record: the status, change or part word (新增, 已消除风险, 未消除风险, 返贫, 其中, 含 ...),
as written in the sentence; null when the figure counts the group itself. Totals over records add
only figures whose qualifier is null. :func:`qualifier` is a function of the record's sentence, the
quantity span and the indicator span (offsets into the sentence); it reads the raw sentence
(traditional and full-width forms are matched, the word is returned as written).

Rules, in order (the first that finds a word gives it):

1. **Status or change word** (:data:`STATUS_WORDS`: 新增, 新识别, 新纳入, 已消除风险, 未消除风险, 返贫,
   已脱贫, 未脱贫, 拟脱贫, 错退, 退出, 自然增加 ...) in the quantity's clause before the quantity
   (the clause runs from the last ``，,；;：:`` or bracket to the quantity; ``、`` does not end it),
   the closest one; or right after the quantity and the figures glued to it, optionally after
   顺利 / 实现 / 均 / 已经 / 全部 / 稳定 (``310户923人顺利脱贫``, ``13户已消除风险``).
   ``监测户94户190人,其中:2023年新增66户127人`` -> 新增 for 66户 and 127人;
   ``11月第一批拟新增监测户5户9人`` -> 新增.
2. **Part word** 其中 or 含 earlier in the sentence: 其中 / 含 make every figure after them a part of an
   earlier figure, up to the next ``；;``, the end of the bracket they stand in, or a total word in a
   later clause (:data:`TOTAL_WORDS`: 累计, 共计, 合计, 总计, 共有 ... or a clause that starts with
   有 / 共). A 其中 with no more specific status word gives 其中.
   ``总户籍人口27718户,其中脱贫户1099户2172人`` -> 其中 for 1099户 and 2172人.
3. **A breakdown in brackets** right after a figure: ``外出务工人员698人(脱贫户686人、监测户12人)``
   gives the opening bracket as written, ``(``, for 686人 and 12人 (the figures break 698人 down).

Never a qualifier: words inside the indicator span (``1099户2172人的已脱贫户``: the group is
已脱贫户; ``今年实现脱贫393户`` links to 脱贫 itself, null), and **累计** (decision: SPEC's relation
rule lists 累计 among the status words only so that it is never the indicator; in a record,
``累计N`` is the group's total to date — not a part and not a change — so it is null, like 共, and
it ends the reach of an earlier status word: ``新增10户，累计94户`` -> null for 94户). Bare 脱贫 counts
only where it is not the start of a noun (脱贫户, 脱贫攻坚, 脱贫不稳定户 are names), 返贫 not after
防 / 止 / 不 / 性 (防止返贫, 规模性返贫) nor before 致 / 风 / 监 (返贫致贫风险, 返贫监测).
"""
from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from .normalize import to_simplified_char

__all__ = ["qualifier", "STATUS_WORDS", "PART_WORDS", "TOTAL_WORDS"]

#: status and change words (simplified); the longest match at a position wins
STATUS_WORDS: tuple[str, ...] = (
    "新增", "新识别", "新纳入", "新致贫", "已消除风险", "未消除风险", "风险已消除", "风险未消除", "消除风险",
    "返贫", "已脱贫", "未脱贫", "拟脱贫", "脱贫", "错退", "退出", "自然增加", "自然减少",
)
#: part words: the figure is a part of an earlier figure of the sentence
PART_WORDS: tuple[str, ...] = ("其中", "含")
#: total words: the figure is a (running) total; they end the reach of earlier status and part words
TOTAL_WORDS: tuple[str, ...] = ("累计", "共计", "合计", "总计", "总共", "共有", "现有")

_CLAUSE_ENDS = set(",;:，；：")
_OPEN = set("(（[［【")
_CLOSE = set(")）]］】")
_PART_ENDS = set(";；")
_GLUE = ("顺利", "实现", "均", "已经", "全部", "稳定", "都")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# after 脱贫 (已/未/拟脱贫): a following Han character makes it a name (脱贫户, 脱贫攻坚), except these
_TUOPIN_FREE = set("的了后")
_FANPIN_BEFORE = set("防止不性")
_FANPIN_AFTER = set("致风监")
# 含 is a part word only at the start of a clause or bracket (not in 包含, 含量)
_HAN_BEFORE_PART = set("(（,，;；:：、")
# a bare 有 / 共 is a total word at the start of a clause or bracket
_TOTAL_BEFORE = _CLAUSE_ENDS | _OPEN


def _fold(ch: str) -> str:
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        ch = chr(code - 0xFEE0)
    return to_simplified_char(ch)


@lru_cache(maxsize=4096)
def _simplified(sentence: str) -> str:
    """The sentence folded character by character (same length): full-width -> ASCII, t2s."""
    return "".join(_fold(c) for c in sentence)


@lru_cache(maxsize=1)
def _figure_end():
    from .quantity.patterns import QUANTITY_PATTERN

    return QUANTITY_PATTERN


@lru_cache(maxsize=16)
def _by_first_char(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The words by their first character, longest first (equal lengths in their given order)."""
    index: dict[str, list[str]] = {}
    for w in sorted(words, key=len, reverse=True):
        index.setdefault(w[0], []).append(w)
    return {c: tuple(ws) for c, ws in index.items()}


def _words_at(text: str, i: int, words: tuple[str, ...]) -> str | None:
    """The longest of ``words`` that starts at ``text[i]`` (one dict look-up for most positions)."""
    for w in _by_first_char(words).get(text[i], ()) if i < len(text) else ():
        if text.startswith(w, i):
            return w
    return None


def _status_ok(text: str, i: int, w: str) -> bool:
    after = text[i + len(w)] if i + len(w) < len(text) else ""
    before = text[i - 1] if i > 0 else ""
    if w.endswith("脱贫"):
        return not (_HAN.match(after) and after not in _TUOPIN_FREE)
    if w == "返贫":
        return before not in _FANPIN_BEFORE and after not in _FANPIN_AFTER
    if w == "退出":
        return after not in set("机标程")
    return True


@lru_cache(maxsize=4096)
def _candidates(text: str) -> tuple[tuple[int, ...], tuple[tuple[tuple[str, str], ...], ...]]:
    """Every position of ``text`` where a status, part or total word (or a clause-initial 有 / 共)
    starts, and there the longest word of each kind (kinds in the order status, part, total)."""
    positions: list[int] = []
    words_at: list[tuple[tuple[str, str], ...]] = []
    for i, ch in enumerate(text):
        found = []
        for kind, words in (("status", STATUS_WORDS), ("part", PART_WORDS), ("total", TOTAL_WORDS)):
            w = _words_at(text, i, words) if ch in _by_first_char(words) else None
            if w:
                found.append((kind, w))
        if ch in "有共" and (i == 0 or text[i - 1] in _TOTAL_BEFORE):
            found.append(("bare", ch))
        if found:
            positions.append(i)
            words_at.append(tuple(found))
    return tuple(positions), tuple(words_at)


def _scan(text: str, lo: int, hi: int, masked: tuple[tuple[int, int], ...]) -> list[tuple[int, str, str]]:
    """(position, kind, word) of the status, part and total words in ``text[lo:hi]`` (longest match
    at each position, none overlapping a masked span)."""
    positions, words_at = _candidates(text)
    out: list[tuple[int, str, str]] = []
    nxt = lo
    for k in range(bisect_left(positions, lo), bisect_left(positions, hi)):
        i = positions[k]
        if i < nxt:
            continue
        hit = None
        for kind, w in words_at[k]:
            if kind != "bare" and i + len(w) <= hi and (hit is None or len(w) > len(hit[1])):
                hit = (kind, w)
        if hit is None and words_at[k][-1][0] == "bare":
            hit = ("total", text[i])
        if hit is not None and not any(a < i + len(hit[1]) and i < b for a, b in masked):
            kind, w = hit
            if (kind == "status" and _status_ok(text, i, w)) or kind == "total" or (
                    kind == "part" and (w != "含" or i == 0 or text[i - 1] in _HAN_BEFORE_PART | {"中"})):
                out.append((i, kind, w))
                nxt = i + len(w)
    return out


def _closed_groups(text: str, hi: int) -> list[tuple[int, int]]:
    """Bracket groups that open and close before ``hi``, and the start of the group still open at
    ``hi`` (as ``(start, -1)``), outermost last."""
    groups: list[tuple[int, int]] = []
    stack: list[int] = []
    for i in range(hi):
        if text[i] in _OPEN:
            stack.append(i)
        elif text[i] in _CLOSE and stack:
            groups.append((stack.pop(), i + 1))
    groups.extend((s, -1) for s in stack)
    return groups


def _clause_start(text: str, pos: int) -> int:
    i = pos
    while i > 0 and text[i - 1] not in _CLAUSE_ENDS and text[i - 1] not in _OPEN and text[i - 1] not in _CLOSE:
        i -= 1
    return i


def _after_status(text: str, end: int, stop: int, masked: tuple[tuple[int, int], ...]) -> tuple[int, int] | None:
    """A status word right after the figure ending at ``end`` (and the figures glued to it)."""
    pattern = _figure_end()
    i = end
    while True:
        m = pattern.match(text, i)
        if m and m.end() > i:
            i = m.end()
            continue
        break
    for g in _GLUE:
        if text.startswith(g, i):
            i += len(g)
            break
    if i >= stop:
        return None
    w = _words_at(text, i, STATUS_WORDS)
    if w and i + len(w) <= stop and _status_ok(text, i, w) and not any(a < i + len(w) and i < b for a, b in masked):
        return i, i + len(w)
    return None


def _bracket_after_figure(text: str, raw: str, groups: list[tuple[int, int]], q_start: int) -> str | None:
    pattern = _figure_end()
    for start, end in reversed(groups):
        if end != -1 and end <= q_start:
            continue  # closed before the quantity: it does not hold it
        head = text[:start].rstrip()
        if any(m.end() == len(head) for m in pattern.finditer(head, max(0, len(head) - 24))):
            return raw[start]
    return None


def qualifier(sentence: str, quantity: tuple[int, int], indicator: tuple[int, int] | None) -> str | None:
    """The qualifier of the quantity ``sentence[quantity[0]:quantity[1]]`` linked to the indicator
    ``sentence[indicator[0]:indicator[1]]`` (None: no link): the status, change or part word as
    written in ``sentence``, or None when the figure counts the group itself. See the module
    docstring for the rules."""
    text = _simplified(sentence)
    q0, q1 = quantity
    ind = indicator if indicator is not None and 0 <= indicator[0] < indicator[1] <= len(text) else None
    masked = (ind,) if ind is not None else ()
    # 1. a status or change word: in the quantity's clause before it, then right after it
    lo = _clause_start(text, q0)
    before = [h for h in _scan(text, lo, q0, masked) if h[1] != "part"]
    if before and before[-1][1] == "status":
        p, _, w = before[-1]
        return sentence[p:p + len(w)]
    stop = ind[0] if ind is not None and ind[0] >= q1 else len(text)
    hit = _after_status(text, q1, stop, masked)
    if hit is not None:
        return sentence[hit[0]:hit[1]]
    # 2. a part word earlier in the sentence, still reaching the quantity
    groups = _closed_groups(text, q0)
    closed = tuple((a, b) for a, b in groups if b != -1 and b <= q0)
    part = _reaching_part(text, q0, masked + closed)
    if part is not None:
        return sentence[part[0]:part[1]]
    # 3. a breakdown in brackets right after a figure
    return _bracket_after_figure(text, sentence, groups, q0)


def _reaching_part(text: str, q0: int, masked: tuple[tuple[int, int], ...]) -> tuple[int, int] | None:
    lo = 0
    for i in range(q0 - 1, -1, -1):
        if text[i] in _PART_ENDS and not any(a <= i < b for a, b in masked):
            lo = i + 1
            break
    found: tuple[int, int] | None = None
    found_clause = -1
    for p, kind, w in _scan(text, lo, q0, masked):
        if kind == "part":
            found, found_clause = (p, p + len(w)), _clause_start(text, p)
        elif kind == "total" and found is not None and _clause_start(text, p) != found_clause:
            found = None
    return found

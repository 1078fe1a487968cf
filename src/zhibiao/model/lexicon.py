"""SoftLexicon-style features: for each character, the lexicon words that Begin, are in the
Middle of, End, or are a Single character at that position.

The lexicon is the taxonomy's aliases (category: their type id) plus small domain word lists
(units, approximation markers, status/change words, generic nouns, scope words and verbs of
SPEC.md). Each match contributes the embedding of its word and of its category; word
embeddings start at zero, so an alias the training data never showed still contributes its
category (what a user's own taxonomy file adds is used at once).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

B, M, E, S = range(4)

DOMAIN_WORDS: dict[str, list[str]] = {
    "UNIT": ["户", "人", "人次", "户次", "名", "个", "元", "万元", "亿元", "千元", "亩", "万亩", "公里", "千米", "米",
             "平方米", "平方公里", "千瓦", "兆瓦", "吨", "条", "次", "项", "所", "家", "口", "座", "套", "台", "批",
             "支", "场", "份", "间", "辆", "头", "只", "处", "期", "村", "%", "百分点", "万人", "万户", "元/亩", "眼"],
    "APPROX": ["余", "多", "近", "约", "超", "逾", "以上", "左右"],
    "STATUS": ["新增", "已消除风险", "未消除风险", "消除风险", "已脱贫", "未脱贫", "拟脱贫", "返贫", "错退", "退出",
               "自然增加", "稳定脱贫", "顺利脱贫", "实现脱贫", "已纳入", "拟新增", "标注", "风险消除"],
    "GENERIC": ["学生", "群众", "人员", "村民", "劳动力", "资金", "人口", "农户", "干部"],
    "SCOPE": ["全镇", "全乡", "全县", "全村", "全区", "全市", "我镇", "我乡", "共", "共计", "累计", "合计", "其中",
              "含", "包括", "分别"],
    "VERB": ["申报", "发放", "开发", "完成", "实现", "帮扶", "走访", "排查", "识别", "纳入", "落实", "新办理", "招聘",
             "购买", "资助", "申请", "安置", "培训", "投入", "实施"],
}


@dataclass
class Lexicon:
    words: dict[str, tuple[int, int]]  # word -> (word id >= 1, category id >= 1)
    categories: list[str]              # category id - 1 -> name
    max_len: int
    slots: int = 3                     # matches kept per (char, B/M/E/S)

    @classmethod
    def build(cls, aliases: dict[str, str], domain: dict[str, list[str]] = DOMAIN_WORDS) -> "Lexicon":
        cats: list[str] = []
        cat_id: dict[str, int] = {}
        words: dict[str, tuple[int, int]] = {}

        def add(word: str, cat: str) -> None:
            if cat not in cat_id:
                cats.append(cat)
                cat_id[cat] = len(cats)
            if word and word not in words:
                words[word] = (len(words) + 1, cat_id[cat])

        for cat, ws in domain.items():
            for w in ws:
                add(w, cat)
        for alias, type_id in sorted(aliases.items()):
            add(alias, "T:" + type_id)
        return cls(words, cats, max(map(len, words)) if words else 1)

    @property
    def n_words(self) -> int:
        return len(self.words) + 1

    @property
    def n_categories(self) -> int:
        return len(self.categories) + 1

    def features(self, text: str, alias_ends: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per character: ``(len, 4, slots)`` word ids and category ids (0 = none); slot order B, M, E, S.

        ``alias_ends``, when given, is filled (in the same pass) with the end of the longest taxonomy
        alias of at least :data:`ALIAS_MIN_LEN` characters that starts at each position (0: none):
        :func:`greedy_spans` turns it into :meth:`alias_spans`."""
        shape = (len(text), 4, self.slots)
        wid, cid = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
        at, w, c = self.matches(text, alias_ends)
        wid.reshape(-1)[at], cid.reshape(-1)[at] = w, c
        return wid, cid

    def matches(self, text: str, alias_ends: list[int] | None = None) -> tuple[list[int], list[int], list[int]]:
        """The non-zero entries of :meth:`features`: their flat indices in the ``(len, 4, slots)``
        layout, word ids and category ids (one trie walk from each character that begins a word)."""
        n = len(text)
        slots = self.slots
        at: list[int] = []
        ws: list[int] = []
        cs: list[int] = []
        fill = [0] * (n * 4)  # matches kept so far per (position, B/M/E/S)
        if alias_ends is not None:
            alias_ends[:] = [0] * n
            is_alias = self._alias_categories()
        trie = self._trie()
        for i, ch in enumerate(text):
            node = trie.get(ch)
            if node is None:  # most characters begin no word: skip them without a loop
                continue
            for j in range(i, n):
                if j > i:
                    node = node.get(text[j])
                    if node is None:
                        break
                hit = node.get(_WORD)
                if hit is None:
                    continue
                w, c = hit
                # the (position, slot) entries the word fills: S for one character, else B, M..., E
                for f in ((i * 4 + S,) if j == i else
                          (i * 4 + B, j * 4 + E, *range((i + 1) * 4 + M, j * 4, 4))):
                    k = fill[f]
                    if k < slots:
                        at.append(f * slots + k)
                        ws.append(w)
                        cs.append(c)
                        fill[f] = k + 1
                if alias_ends is not None and j + 1 - i >= ALIAS_MIN_LEN and is_alias[c]:
                    alias_ends[i] = j + 1
        return at, ws, cs

    def alias_spans(self, text: str) -> list[tuple[int, int]]:
        """Taxonomy-alias matches in ``text`` (words of a ``T:`` category, at least
        :data:`ALIAS_MIN_LEN` characters), longest first from the left, not overlapping each other
        (the matches :meth:`features` finds)."""
        ends: list[int] = []
        self.features(text, ends)
        return greedy_spans(ends)

    def _alias_categories(self) -> list[bool]:
        """Per category id: does it hold taxonomy aliases (``T:<type id>``)?"""
        cached = getattr(self, "_alias_cache", None)
        if cached is None:
            cached = [False] + [c.startswith("T:") for c in self.categories]
            self._alias_cache = cached
        return cached

    def _trie(self) -> dict:
        """Character trie of the words; a node's ``_WORD`` entry holds the word's (id, category)."""
        cached = getattr(self, "_trie_cache", None)
        if cached is None:
            cached = {}
            for word, hit in self.words.items():
                node = cached
                for ch in word:
                    node = node.setdefault(ch, {})
                node[_WORD] = hit
            self._trie_cache = cached
        return cached

    def to_json(self) -> str:
        return json.dumps({"words": self.words, "categories": self.categories, "max_len": self.max_len,
                           "slots": self.slots}, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> "Lexicon":
        d = json.loads(data)
        return cls({w: tuple(v) for w, v in d["words"].items()}, d["categories"], d["max_len"], d.get("slots", 3))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Lexicon":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


_WORD = None  # trie key of a complete word (never a character)
ALIAS_MIN_LEN = 2  # shorter taxonomy aliases (井, 牛) are no linker candidates of their own


def greedy_spans(ends: list[int]) -> list[tuple[int, int]]:
    """``ends[i]``: the end of the longest match starting at ``i`` (0: none) -> non-overlapping
    ``(start, end)`` spans, taken left to right."""
    out, i, n = [], 0, len(ends)
    while i < n:
        if ends[i]:
            out.append((i, ends[i]))
            i = ends[i]
        else:
            i += 1
    return out


def lexicon_tensors(lexicon: Lexicon, texts: list[str], length: int,
                    alias_ends: list[list[int]] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded ``(batch, length, 4, slots)`` word-id and category-id tensors; ``alias_ends`` (a list)
    receives each text's alias ends (:meth:`Lexicon.features`)."""
    w = np.zeros((len(texts), length, 4, lexicon.slots), dtype=np.int64)
    c = np.zeros_like(w)
    flat_w, flat_c, row = w.reshape(-1), c.reshape(-1), length * 4 * lexicon.slots
    for b, t in enumerate(texts):
        ends: list[int] | None = [] if alias_ends is not None else None
        if ends is not None:
            alias_ends.append(ends)
        if not t:
            continue
        at, ws, cs = lexicon.matches(t[:length], ends)
        if at:
            idx = np.asarray(at) + b * row  # a text's (len, 4, slots) layout is the start of its row's
            flat_w[idx], flat_c[idx] = ws, cs
    return torch.from_numpy(w), torch.from_numpy(c)

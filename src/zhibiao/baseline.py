"""The rule baseline: regex quantities + the nearest taxonomy alias in the sentence.

It is the floor the trained model must clear (``zhibiao evaluate --model rules``) and the
fallback behind the same interface as the model (``zhibiao.load("rules")``). Rules have no
confidence: every span and link score is None (so are a record's ``score`` and ``quantity_score``).
"""
from __future__ import annotations

import re
from typing import Sequence

from .normalize import normalize
from .records import INDICATOR, QUANTITY, Link, Prediction, Span
from .sentences import split_sentences

__all__ = ["RuleBaseline", "QUANTITY_RE"]


def _quantity_regex() -> re.Pattern[str]:
    from .quantity import NUMBER_PATTERN, UNIT_PATTERN

    num = NUMBER_PATTERN if isinstance(NUMBER_PATTERN, str) else NUMBER_PATTERN.pattern
    unit = UNIT_PATTERN if isinstance(UNIT_PATTERN, str) else UNIT_PATTERN.pattern
    rng = rf"(?:{num})(?:\s*(?:万|亿)?\s*(?:至|到|—|-|~|～)\s*(?:{num}))?"
    return re.compile(rf"(?:近|约|超|逾)?(?:{rng})(?:余|多)?\s?(?:万|亿)?(?:{unit})(?:/(?:{unit}))?")


QUANTITY_RE = None  # compiled on first use
_YEARLIKE = re.compile(r"^(?:19|20)\d\d年|^\d{1,2}月|^\d{1,2}日")


class RuleBaseline:
    def __init__(self, taxonomy):
        self.taxonomy = taxonomy
        aliases = sorted(taxonomy.aliases(), key=len, reverse=True)
        self.alias_re = re.compile("|".join(map(re.escape, aliases))) if aliases else None

    def predict_documents(self, texts: Sequence[str], doc_ids: Sequence[str | None] | None = None,
                          batch_size: int = 64) -> list[Prediction]:
        global QUANTITY_RE
        if QUANTITY_RE is None:
            QUANTITY_RE = _quantity_regex()
        doc_ids = list(doc_ids) if doc_ids is not None else [None] * len(texts)
        return [self._predict(t, i) for t, i in zip(texts, doc_ids)]

    def _predict(self, text: str, doc_id: str | None) -> Prediction:
        n = normalize(text)
        pred = Prediction(doc_id=doc_id, text=text)

        def span(a: int, b: int, label: str) -> Span:
            oa, ob = n.to_original(a, b)
            return Span(oa, ob, label, text[oa:ob], score=None)

        for sa, sb in split_sentences(n.text):
            qs = [m for m in QUANTITY_RE.finditer(n.text, sa, sb) if not _YEARLIKE.match(m.group())]
            ins = list(self.alias_re.finditer(n.text, sa, sb)) if self.alias_re else []
            ind_spans: dict[tuple[int, int], Span] = {}
            for m in qs:
                q = span(m.start(), m.end(), QUANTITY)
                pred.spans.append(q)
                cands = [i for i in ins if i.end() <= m.start() or i.start() >= m.end()]
                if not cands:
                    continue
                best = min(cands, key=lambda i: (m.start() - i.end() if i.end() <= m.start() else i.start() - m.end(),
                                                 i.start() > m.start()))
                key = best.span()
                if key not in ind_spans:
                    ind_spans[key] = span(key[0], key[1], INDICATOR)
                    pred.spans.append(ind_spans[key])
                pred.links.append(Link(q, ind_spans[key], score=None))
        return pred

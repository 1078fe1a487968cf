"""Metrics: gold :class:`AnnotatedDocument` vs :class:`Prediction`, as one flat dict.

- ``entity_<LABEL>_{precision,recall,f1}`` and ``entity_micro_*``: seqeval, strict mode, IOB2,
  over the characters of each sentence;
- ``quantity_*``: quantity spans, exact match;
- ``link_strict_*``: (quantity span, indicator span) pairs, both exact;
- ``link_relaxed_*``: the quantity spans overlap and the indicator spans overlap, one-to-one;
- ``value_accuracy``: of the gold quantities matched (overlap, one-to-one) by a predicted one,
  the share whose parsed value, range end, normalised value and unit are equal (a gold quantity
  the parser cannot read counts as wrong);
- ``type_accuracy``: of the relaxed-matched links whose gold indicator carries an
  ``indicator_type``, the share where the taxonomy gives the predicted indicator that type;
- ``link_ece``: expected calibration error (10 bins) of the link score against relaxed correctness
  (over the links that have a score: 0.0 for the rule baseline, which has none).
"""
from __future__ import annotations

from typing import Sequence

from .records import INDICATOR, LABELS, QUANTITY, AnnotatedDocument, Prediction, Span
from .sentences import split_sentences

__all__ = ["evaluate", "prf"]


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else (1.0 if not n_gold else 0.0)
    r = tp / n_gold if n_gold else (1.0 if not n_pred else 0.0)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _match(golds: Sequence, preds: Sequence, key) -> list[tuple[int, int]]:
    """One-to-one greedy matching by descending overlap score ``key(g, p)`` (> 0 to match)."""
    cands = sorted(((key(g, p), gi, pi) for gi, g in enumerate(golds) for pi, p in enumerate(preds)),
                   key=lambda x: (-x[0], x[1], x[2]))
    used_g, used_p, pairs = set(), set(), []
    for score, gi, pi in cands:
        if score <= 0 or gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        pairs.append((gi, pi))
    return pairs


def _bio(text: str, spans: Sequence[Span]) -> list[list[str]]:
    seqs = []
    for a, b in split_sentences(text):
        tags = ["O"] * (b - a)
        for s in sorted(spans, key=lambda x: (x.start, -x.end)):
            if s.start < a or s.end > b:
                continue
            if any(t != "O" for t in tags[s.start - a:s.end - a]):
                continue  # overlapping spans cannot be written as BIO; the first one wins
            tags[s.start - a] = "B-" + s.label
            for k in range(s.start - a + 1, s.end - a):
                tags[k] = "I-" + s.label
        seqs.append(tags)
    return seqs


def _value_key(text: str):
    from .quantity import parse_quantity

    try:
        q = parse_quantity(text)  # it normalises the text itself
    except Exception:  # noqa: BLE001 - any parse failure makes the value wrong
        return None
    return (q.value, q.value_max, q.normalized_value, q.normalized_unit)


def evaluate(gold: Sequence[AnnotatedDocument], pred: Sequence[Prediction], taxonomy=None,
             ece_bins: int = 10) -> dict[str, float]:
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold documents but {len(pred)} predictions")
    y_true, y_pred = [], []
    counts = {k: 0 for k in ("q_tp", "q_pred", "q_gold", "ls_tp", "lr_tp", "l_pred", "l_gold",
                             "v_ok", "v_n", "t_ok", "t_n")}
    calib: list[tuple[float, bool]] = []
    for g, p in zip(gold, pred):
        if g.text != p.text:
            raise ValueError(f"document {g.id}: prediction is for a different text")
        y_true += _bio(g.text, g.entities)
        y_pred += _bio(p.text, p.spans)
        gq = {(e.start, e.end) for e in g.quantities}
        pq = {(s.start, s.end) for s in p.quantities}
        counts["q_tp"] += len(gq & pq)
        counts["q_pred"] += len(pq)
        counts["q_gold"] += len(gq)
        # values of matched quantities
        gqs, pqs = g.quantities, p.quantities
        for gi, pi in _match(gqs, pqs, _overlap):
            counts["v_n"] += 1
            gk = _value_key(gqs[gi].text)
            counts["v_ok"] += gk is not None and gk == _value_key(pqs[pi].text)
        # links
        glinks = g.links()
        counts["l_gold"] += len(glinks)
        counts["l_pred"] += len(p.links)
        gs = {((l.quantity.start, l.quantity.end), (l.indicator.start, l.indicator.end)) for l in glinks}
        counts["ls_tp"] += sum(((l.quantity.start, l.quantity.end), (l.indicator.start, l.indicator.end)) in gs
                               for l in p.links)

        def link_key(gl, pl):
            qo, io = _overlap(gl.quantity, pl.quantity), _overlap(gl.indicator, pl.indicator)
            return qo + io if qo and io else 0

        pairs = _match(glinks, p.links, link_key)
        counts["lr_tp"] += len(pairs)
        matched_pred = {pi for _, pi in pairs}
        calib.extend((pl.score, k in matched_pred) for k, pl in enumerate(p.links) if pl.score is not None)
        if taxonomy is not None:
            for gi, pi in pairs:
                gtype = glinks[gi].indicator.indicator_type
                if gtype:
                    counts["t_n"] += 1
                    counts["t_ok"] += taxonomy.classify(p.links[pi].indicator.text) == gtype
    out: dict[str, float] = {}
    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    for label in LABELS:
        r = report.get(label, {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
        out[f"entity_{label}_precision"] = float(r["precision"])
        out[f"entity_{label}_recall"] = float(r["recall"])
        out[f"entity_{label}_f1"] = float(r["f1-score"])
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    out["entity_micro_precision"], out["entity_micro_recall"], out["entity_micro_f1"] = (
        float(micro["precision"]), float(micro["recall"]), float(micro["f1-score"]))
    out["quantity_precision"], out["quantity_recall"], out["quantity_f1"] = prf(counts["q_tp"], counts["q_pred"], counts["q_gold"])
    out["link_strict_precision"], out["link_strict_recall"], out["link_strict_f1"] = prf(counts["ls_tp"], counts["l_pred"], counts["l_gold"])
    out["link_relaxed_precision"], out["link_relaxed_recall"], out["link_relaxed_f1"] = prf(counts["lr_tp"], counts["l_pred"], counts["l_gold"])
    out["value_accuracy"] = counts["v_ok"] / counts["v_n"] if counts["v_n"] else 1.0
    out["type_accuracy"] = counts["t_ok"] / counts["t_n"] if counts["t_n"] else float("nan")
    out["link_ece"] = _ece(calib, ece_bins)
    out["n_documents"] = float(len(gold))
    out["n_gold_quantities"] = float(counts["q_gold"])
    out["n_gold_links"] = float(counts["l_gold"])
    out["n_typed_links"] = float(counts["t_n"])
    return out


def _ece(pairs: list[tuple[float, bool]], bins: int) -> float:
    if not pairs:
        return 0.0
    total = 0.0
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        sel = [(s, c) for s, c in pairs if (lo < s <= hi) or (k == 0 and s == 0.0)]
        if sel:
            conf = sum(s for s, _ in sel) / len(sel)
            acc = sum(c for _, c in sel) / len(sel)
            total += len(sel) / len(pairs) * abs(conf - acc)
    return total


_ = (INDICATOR, QUANTITY)

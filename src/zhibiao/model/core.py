"""``ZhibiaoModel``: the one class that is created, trained, saved, loaded and called.

A model is a folder (its files and checks: :mod:`zhibiao.model.persistence`); prediction runs
normalised sentence windows through the network (:mod:`zhibiao.model.modules`) and decodes them
(:mod:`zhibiao.model.decoding`), then maps spans back to the texts as given.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import ModelLoadError
from ..normalize import normalize
from ..records import Link, Prediction, Span
from ..quantity import may_hold_quantity
from ..sentences import sentence_windows
from ..taxonomy import Taxonomy
from .config import ModelConfig
from .decoding import original_span, snap_quantities, spans_from_valid_tags, tag_bias, viterbi
from .featurization import Featurizer, free_alias_spans, padded_length
from .lexicon import Lexicon
from .modules import CharEncoder, PretrainedEncoder, ZhibiaoNet
from .persistence import load_model_folder, save_model_folder
from .vocab import CharVocab


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        return None


_MALLOC_TRIM = _malloc_trim()


TRIM_INTERVAL_S = 2.0
# Inference shapes: windows are padded to a multiple of PAD_MULTIPLE characters (fewer distinct
# shapes; a window's scores do not depend on what else is in its batch). Batches used to be rounded
# to 8 rows as well, against heap growth; the growth was oneDNN's primitive cache
# (zhibiao.extract.bound_kernel_caches), and the filler rows were up to a quarter of the encoder's
# work: dropped (the same predictions, bit for bit, over the annotated texts at 1 and 2 threads).
PAD_MULTIPLE = 16
_TRIM_STATE = {"last": 0.0}


def release_memory(min_interval: float = 0.0) -> bool:
    """Hand freed heap pages back to the OS (glibc ``malloc_trim``); True if it ran.

    Freed tensor memory otherwise stays in glibc's heap between calls. The round inference shapes
    (PAD_MULTIPLE) and the bounded oneDNN cache keep peak RSS flat in input size; trimming brings the
    resting RSS back down between calls. ``min_interval`` (seconds) rate-limits it: trimming after
    every call cost ~15% speed (the allocator faults the same pages back in). A no-op where the C
    library has no ``malloc_trim``.
    """
    if _MALLOC_TRIM is None:
        return False
    now = time.monotonic()
    if now - _TRIM_STATE["last"] < min_interval:
        return False
    _MALLOC_TRIM(0)
    _TRIM_STATE["last"] = time.monotonic()
    return True


@dataclass
class WindowPrediction:
    """Spans (window offsets) and links of one window."""

    spans: list[tuple[int, int, str, float]]             # start, end, label, score
    links: list[tuple[int, int | None, float]]           # quantity index, indicator index (None: no link), prob


class ZhibiaoModel:
    def __init__(self, cfg: ModelConfig, net: ZhibiaoNet, vocab: CharVocab | None, lexicon: Lexicon | None,
                 taxonomy: Taxonomy, tokenizer=None, device: str = "cpu", members: Sequence[ZhibiaoNet] = ()):
        self.cfg, self.net, self.vocab, self.lexicon = cfg, net, vocab, lexicon
        self.taxonomy, self.tokenizer = taxonomy, tokenizer
        #: further networks of an ensemble (same inputs, other training seeds): they vote with ``net``
        self.members = list(members)
        self.featurizer = Featurizer(cfg, vocab, lexicon, tokenizer)
        self.device = torch.device(device)
        cats = None
        if lexicon is not None and cfg.lexicon:
            cats = [0] * lexicon.n_words
            for wid, cid in lexicon.words.values():
                cats[wid] = cid
        for n in self.nets:
            n.to(self.device)
            if cats is not None:
                n.word_category = torch.tensor(cats, dtype=torch.long, device=self.device)

    @property
    def nets(self) -> list[ZhibiaoNet]:
        """The networks that vote: ``net`` and the ensemble's further ``members``."""
        return [self.net, *self.members]

    @classmethod
    def ensemble(cls, models: Sequence["ZhibiaoModel"]) -> "ZhibiaoModel":
        """One model whose networks vote (mean tag and boundary log-probabilities): models trained
        on the same data with other seeds. Their inputs must agree (config, vocabulary, lexicon,
        taxonomy); the first one's decoding settings are used."""
        first, *rest = models
        for m in rest:
            same = (_shape(m.cfg) == _shape(first.cfg) and _tokens(m.vocab) == _tokens(first.vocab)
                    and (m.lexicon is None) == (first.lexicon is None)
                    and (m.lexicon is None or m.lexicon.words == first.lexicon.words)
                    and m.taxonomy.to_yaml() == first.taxonomy.to_yaml() and m.tokenizer is None and first.tokenizer is None)
            if not same:
                raise ValueError("ensemble members differ in their config, vocabulary, lexicon or taxonomy")
        nets = [n for m in models for n in m.nets]
        return cls(dataclasses.replace(first.cfg, ensemble=len(nets)), nets[0], first.vocab, first.lexicon,
                   first.taxonomy, first.tokenizer, device=str(first.device), members=nets[1:])

    # ---- creation ------------------------------------------------------------------------
    @classmethod
    def create(cls, cfg: ModelConfig, taxonomy: Taxonomy, texts: Sequence[str] = (), *,
               local_files_only: bool = True, device: str = "cpu") -> "ZhibiaoModel":
        """A new, untrained model: from scratch, or on top of ``cfg.base_model`` (HF name or path)."""
        lexicon = Lexicon.build(taxonomy.aliases()) if cfg.lexicon else None
        if lexicon is not None:
            cfg.n_lex_words, cfg.n_lex_categories, cfg.lex_slots = lexicon.n_words, lexicon.n_categories, lexicon.slots
        if cfg.base_model:
            from transformers import AutoModel, AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(cfg.base_model, local_files_only=local_files_only, use_fast=True)
                encoder = AutoModel.from_pretrained(cfg.base_model, local_files_only=local_files_only,
                                                    use_safetensors=True, trust_remote_code=False)
            except OSError as exc:
                raise ModelLoadError(f"cannot load base model {cfg.base_model!r}: {exc}") from None
            if not getattr(tokenizer, "is_fast", False):
                raise ModelLoadError(f"{cfg.base_model}: a fast tokenizer (offset_mapping) is needed")
            cfg.hidden_size = encoder.config.hidden_size
            cfg.encoder_config = encoder.config.to_dict()
            net = ZhibiaoNet(cfg, PretrainedEncoder(cfg, encoder))
            return cls(cfg, net, None, lexicon, taxonomy, tokenizer, device)
        vocab = CharVocab.build(texts)
        cfg.vocab_size = len(vocab)
        net = ZhibiaoNet(cfg, CharEncoder(cfg))
        return cls(cfg, net, vocab, lexicon, taxonomy, None, device)

    # ---- persistence (zhibiao.model.persistence) -----------------------------------------
    def save_pretrained(self, path: str | Path) -> Path:
        """Write this model as a model folder (:mod:`zhibiao.model.persistence`)."""
        return save_model_folder(self, path)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu", *, local_files_only: bool = True) -> "ZhibiaoModel":
        """Load a model folder. Never touches the network; only safetensors weights are read."""
        parts = load_model_folder(path)
        return cls(parts.cfg, parts.net, parts.vocab, parts.lexicon, parts.taxonomy, parts.tokenizer,
                   device=device, members=parts.members)

    # ---- inference -----------------------------------------------------------------------
    def _to(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v.to(self.device) for k, v in batch.items()}

    @torch.inference_mode()
    def predict_windows(self, texts: Sequence[str]) -> list[WindowPrediction]:
        """Tag and link a batch of normalised windows (each at most ``cfg.max_len`` characters)."""
        if not texts:
            return []
        for n in self.nets:
            if n.training:
                n.eval()
        alias_ends = [] if self.cfg.alias_candidates and self.lexicon is not None else None
        batch = self._to(self.featurizer.texts(texts, pad_multiple=PAD_MULTIPLE, alias_ends=alias_ends))
        encoded = [n.encode(batch) for n in self.nets]
        states, logits = encoded[0]
        if len(encoded) > 1:  # an ensemble: the mean of the tag log-probabilities
            logits = torch.stack([torch.log_softmax(lg.float(), -1) for _, lg in encoded]).mean(0)
        lengths = [len(t) for t in texts]
        tag_seqs = viterbi(logits.cpu(), lengths, tag_bias(self.cfg.indicator_bias))
        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy().astype(np.float64)
        spans_per = []
        b_q, i_q = self.cfg.tags.index("B-QUANTITY"), self.cfg.tags.index("I-QUANTITY")
        for b, seq in enumerate(tag_seqs):
            chosen = probs[b, np.arange(len(seq)), seq]  # the probability of each chosen tag
            spans = [(s, e, label, float(chosen[s:e].sum() / (e - s))) for s, e, label in spans_from_valid_tags(seq)]
            if self.cfg.snap_quantities:
                def q_score(s: int, e: int, p=probs[b]) -> float:  # the tagger's own QUANTITY probability
                    return float((p[s, b_q] + p[s + 1:e, i_q].sum()) / (e - s))

                spans = snap_quantities(texts[b], spans, add_missed=self.cfg.add_missed_quantities, score=q_score)
            spans_per.append(spans)
        if self.cfg.linker == "pointer":  # zhibiao.model.pointer: spans found by the pointer join the tagger's
            from .pointer import pointer_predictions

            return [WindowPrediction(spans=sp, links=lk) for sp, lk in
                    pointer_predictions(self.nets, self.cfg, texts, batch, encoded, spans_per)]
        qs = [[(s, e) for s, e, lab, _ in sp if lab == "QUANTITY"] for sp in spans_per]
        ins = [[(s, e) for s, e, lab, _ in sp if lab == "INDICATOR"] for sp in spans_per]
        if self.cfg.alias_candidates:  # untagged taxonomy aliases are candidates too
            ins = [sorted(i + free_alias_spans(self.lexicon, t, [(s, e) for s, e, _, _ in sp],
                                               alias_ends[b] if alias_ends else None))
                   for b, (i, t, sp) in enumerate(zip(ins, texts, spans_per))]
        out = [WindowPrediction(spans=sp, links=[]) for sp in spans_per]
        if not any(qs):
            return out
        links = self._to(self.featurizer.links(texts, qs, ins))
        link_probs = torch.softmax(self.net.link_logits(states, links).float(), dim=-1).cpu()
        if self.members:  # an ensemble: the mean of the networks' link probabilities
            link_probs = torch.stack([link_probs] + [torch.softmax(n.link_logits(st, links).float(), dim=-1).cpu()
                                                     for n, (st, _) in zip(self.members, encoded[1:])]).mean(0)
        row = 0
        for b in range(len(texts)):
            spans = spans_per[b]
            q_idx = [k for k, sp in enumerate(spans) if sp[2] == "QUANTITY"]
            index = {(sp[0], sp[1]): k for k, sp in enumerate(spans) if sp[2] == "INDICATOR"}
            links_b = []
            for k in range(len(qs[b])):
                p = link_probs[row]
                row += 1
                choice = int(p.argmax())
                target = None
                if choice:
                    cand = ins[b][choice - 1]
                    if cand not in index:  # an untagged alias the linker chose: it becomes an INDICATOR
                        index[cand] = len(spans)
                        spans.append((cand[0], cand[1], "INDICATOR", float(p[choice])))
                    target = index[cand]
                links_b.append((q_idx[k], target, float(p[choice])))
            order = sorted(range(len(spans)), key=lambda k: (spans[k][0], spans[k][1]))
            new_pos = {old: new for new, old in enumerate(order)}
            out[b].spans = [spans[k] for k in order]
            out[b].links = [(new_pos[q], None if i is None else new_pos[i], pr) for q, i, pr in links_b]
        return out

    def _length_batches(self, lengths: Sequence[int], batch_size: int) -> list[list[int]]:
        """Window indices in batches of one padded length each, shortest first.

        A window is padded to the same length whatever else is in the call, so grouping
        documents differently changes only the batch's row count (scores may then move in their
        sixth decimal; ``zhibiao.batch`` re-predicts a part-done batch whole on resume)."""
        keys = [padded_length(n, PAD_MULTIPLE, self.cfg.max_len) for n in lengths]
        out: list[list[int]] = []
        for k in sorted(range(len(lengths)), key=lambda k: lengths[k]):
            if out and len(out[-1]) < batch_size and keys[out[-1][0]] == keys[k]:
                out[-1].append(k)
            else:
                out.append([k])
        return out

    def predict_documents(self, texts: Sequence[str], doc_ids: Sequence[str | None] | None = None,
                          batch_size: int = 64) -> list[Prediction]:
        """Predict spans and links for whole documents, in offsets of the texts as given.

        Each text is normalised; its sentence windows that may hold a quantity (a digit, or a Chinese
        numeral with a unit: :func:`~zhibiao.quantity.may_hold_quantity`) go through the network,
        batched across documents by length; spans map back through the offset map.
        """
        doc_ids = list(doc_ids) if doc_ids is not None else [None] * len(texts)
        norms = [normalize(t) for t in texts]
        jobs = []  # (doc index, window start, window text)
        for d, n in enumerate(norms):
            for a, b in sentence_windows(n.text, self.cfg.max_len):
                if may_hold_quantity(n.text, a, b):
                    jobs.append((d, a, n.text[a:b]))
        results: list[WindowPrediction | None] = [None] * len(jobs)
        for chunk in self._length_batches([len(j[2]) for j in jobs], batch_size):
            for j, res in zip(chunk, self.predict_windows([jobs[j][2] for j in chunk])):
                results[j] = res
        preds = [Prediction(doc_id=i, text=t) for i, t in zip(doc_ids, texts)]
        for (d, a, _), res in zip(jobs, results):
            n, pred = norms[d], preds[d]
            spans = []
            for s, e, label, score in res.spans:
                oa, ob = original_span(n, a + s, a + e)
                spans.append(Span(oa, ob, label, n.original[oa:ob], score=score))
            pred.spans.extend(spans)
            for qk, ik, prob in res.links:
                if ik is not None:
                    pred.links.append(Link(spans[qk], spans[ik], score=prob))
        if jobs:
            release_memory(min_interval=TRIM_INTERVAL_S)
        return preds

    def quantize(self) -> "ZhibiaoModel":
        """int8 dynamic quantisation of the linear layers (CPU inference)."""
        with warnings.catch_warnings():  # torch 2.13 flags its quantised-tensor API as deprecated
            warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            self.net, *self.members = [torch.ao.quantization.quantize_dynamic(n, {torch.nn.Linear}, dtype=torch.qint8)
                                       for n in self.nets]
        return self


def _shape(cfg: ModelConfig) -> dict:
    """The fields of a config that decide a network's inputs and outputs (not its decoding)."""
    d = cfg.to_dict()
    for k in ("indicator_bias", "ensemble"):
        d.pop(k, None)
    return d


def _tokens(vocab: CharVocab | None) -> list[str] | None:
    return None if vocab is None else vocab.tokens

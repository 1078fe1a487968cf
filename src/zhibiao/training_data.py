"""Training data: annotated files -> the documents of a run -> training windows.

The data files of a config (``data.train``, read in any annotated format), with the correction
overlays of ``data.corrections`` applied (:mod:`zhibiao.io.corrections`), less excluded splits
and ids, split into train and dev documents; the train documents become sentence windows in
normalised text (oversampled by split), joined by the generator's windows
(``data.generator_share``).
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from .config import ConfigError, TrainingConfig, as_training_config
from .normalize import normalize
from .records import INDICATOR, QUANTITY, AnnotatedDocument
from .sentences import NUMERAL, sentence_windows


def read_annotations(paths: Sequence[str | Path], fmt: str = "auto", base: Path | None = None) -> list[AnnotatedDocument]:
    """The documents of the annotated files ``paths``; a relative path is read from ``base`` (when
    given), else from the working directory."""
    from .io.convert import read_any

    docs: list[AnnotatedDocument] = []
    for p in paths:
        p = Path(p)
        if base is not None and not p.is_absolute():
            p = base / p
        docs.extend(read_any(p, fmt))
    return docs


def apply_overlays(docs: Sequence[AnnotatedDocument], overlays: Sequence[str | Path]) -> int:
    """Apply the correction overlay files ``overlays`` in order to ``docs`` (in place); returns how
    many corrections applied (one naming a document not among ``docs`` is skipped)."""
    from .io.corrections import apply_corrections, read_corrections

    return sum(apply_corrections(docs, read_corrections(p)) for p in overlays)


def data_hash(docs: Sequence[AnnotatedDocument]) -> str:
    from .io.jsonl import doc_to_dict

    h = hashlib.sha256()
    for d in docs:
        obj = doc_to_dict(d)
        obj["meta"] = {k: v for k, v in obj["meta"].items() if k != "source"}
        h.update(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return h.hexdigest()


def dev_split(docs: Sequence[AnnotatedDocument], fraction: float,
              splits: Sequence[str] | None = None) -> tuple[list, list]:
    """Hold back ``fraction`` of the documents (chosen by a hash of the id, so it is stable), drawn
    only from documents whose ``meta.split`` is in ``splits`` when that is given."""
    if fraction <= 0 or len(docs) < 2:
        return list(docs), []
    allowed = None if splits is None else set(splits)
    eligible = [d for d in docs if allowed is None or d.meta.get("split") in allowed]
    keyed = sorted(eligible, key=lambda d: hashlib.md5(d.id.encode("utf-8")).hexdigest())
    n_dev = max(1, round(len(docs) * fraction))
    dev_ids = {d.id for d in keyed[:n_dev]}
    return [d for d in docs if d.id not in dev_ids], [d for d in docs if d.id in dev_ids]


def document_examples(doc: AnnotatedDocument, max_len: int) -> list[dict[str, Any]]:
    """The training windows of one gold document, in normalised text with local offsets."""
    norm = normalize(doc.text)
    ents = {}
    for e in doc.entities:
        a, b = norm.from_original(e.start, e.end)
        if b > a:
            ents[e.id] = (a, b, e.label)
    link = dict(doc.relations)
    out = []
    for wa, wb in sentence_windows(norm.text, max_len):
        inside = {k: v for k, v in ents.items() if wa <= v[0] and v[1] <= wb}
        if not inside and not NUMERAL.search(norm.text, wa, wb):
            continue
        qs = sorted((v[0] - wa, v[1] - wa, k) for k, v in inside.items() if v[2] == QUANTITY)
        ins = sorted((v[0] - wa, v[1] - wa, k) for k, v in inside.items() if v[2] == INDICATOR)
        ind_index = {k: j for j, (_, _, k) in enumerate(ins)}
        out.append({
            "text": norm.text[wa:wb],
            "spans": [[s, e, inside[k][2]] for s, e, k in sorted(qs + ins)],
            "quantities": [[s, e] for s, e, _ in qs],
            "indicators": [[s, e] for s, e, _ in ins],
            "targets": [ind_index.get(link.get(k), -1) for _, _, k in qs],
            "doc_id": doc.id,
        })
    return out


def build_dataset(docs: Sequence[AnnotatedDocument], max_len: int):
    import datasets

    rows = [ex for d in docs for ex in document_examples(d, max_len)]
    features = datasets.Features({
        "text": datasets.Value("string"),
        "spans": datasets.Sequence(datasets.Sequence(datasets.Value("string"))),
        "quantities": datasets.Sequence(datasets.Sequence(datasets.Value("int32"))),
        "indicators": datasets.Sequence(datasets.Sequence(datasets.Value("int32"))),
        "targets": datasets.Sequence(datasets.Value("int32")),
        "doc_id": datasets.Value("string"),
    })
    for r in rows:
        r["spans"] = [[str(s), str(e), lab] for s, e, lab in r["spans"]]
    return datasets.Dataset.from_list(rows, features=features)


def training_documents(cfg: TrainingConfig | Mapping[str, Any], base: str | Path | None = None
                       ) -> tuple[list, list, list]:
    """``(all, train, dev)`` documents of a run: the data files with their corrections applied,
    less excluded splits and ids. ``base``: where relative paths are read from when the config did
    not come from a file (:meth:`~zhibiao.config.TrainingConfig.base_dir`)."""
    cfg = as_training_config(cfg)
    dc = cfg.data
    docs = read_annotations(cfg.data_paths("train", base), dc.format)
    apply_overlays(docs, cfg.data_paths("corrections", base))
    excluded_splits = set(dc.exclude_splits)
    excluded_ids = set(map(str, dc.exclude_ids))
    docs = [d for d in docs if d.meta.get("split") not in excluded_splits and d.id not in excluded_ids]
    if not docs:
        raise ConfigError("no training documents left after exclude_splits / exclude_ids")
    splits = dc.dev_splits
    train_docs, dev_docs = dev_split(docs, dc.dev_fraction, list(splits) if splits else None)
    return docs, train_docs, dev_docs


def training_windows(cfg: TrainingConfig, train_docs: Sequence[AnnotatedDocument], taxonomy):
    """``(dataset, n_real)``: the windows of ``train_docs`` (each repeated as ``data.oversample``
    says for its split), then ``data.generator_share`` times as many generated ones."""
    dc, max_len = cfg.data, cfg.model.max_len
    over = {str(k): int(v) for k, v in dc.oversample.items()}
    weighted = [d for d in train_docs for _ in range(max(1, over.get(str(d.meta.get("split")), 1)))]
    train_ds = build_dataset(weighted, max_len)
    n_real = len(train_ds)
    if dc.generator_share > 0:
        import datasets

        from .generate import generate_documents

        gen_docs = generate_documents(int(math.ceil(n_real * dc.generator_share)), taxonomy, seed=dc.generator_seed)
        train_ds = datasets.concatenate_datasets([train_ds, build_dataset(gen_docs, max_len)])
    return train_ds, n_real

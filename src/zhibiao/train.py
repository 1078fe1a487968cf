"""Training: one YAML config -> datasets -> joint training loop -> a model folder.

    zhibiao train --config training/default.yaml --set train.epochs=5 --output models/mine

The config fully describes a run (see ``training/default.yaml``): data files and splits, the
generator's share, model size, lexicon on/off, epochs, batch size, learning rate, seed. The
resolved config, a hash of the training data and the metrics are written next to the weights.
Same seed + same data gives the same metrics on CPU.
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
import yaml

from .errors import ZhibiaoError
from .normalize import normalize
from .records import INDICATOR, QUANTITY, AnnotatedDocument
from .sentences import NUMERAL, sentence_windows

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "data": {
        "train": ["annotations/seeds.jsonl", "annotations/authored.jsonl"],
        "format": "auto",              # jsonl | doccano | labelstudio | auto (by content)
        "exclude_splits": ["heldout"],  # meta.split values never trained on
        "exclude_ids": [],              # document ids left out (leave-one-out)
        "dev_fraction": 0.1,            # share of training documents held back for checkpoint choice
        "dev_splits": None,             # draw the dev documents only from these meta.split values (None: any)
        "generator_share": 0.0,         # generated windows, as a share of the real training windows
        "generator_seed": 7,
        "oversample": {},               # meta.split -> times its documents' windows are repeated (e.g. {seed: 3})
        "taxonomy": None,               # extra taxonomy YAML (extends the bundled one)
    },
    "model": {
        "base_model": None, "hidden_size": 128, "num_layers": 2, "num_heads": 4, "intermediate_size": 512,
        "max_len": 160, "dropout": 0.1, "lexicon": True, "lex_dim": 32, "span_dim": 128, "link_hidden": 128,
        "char_classes": True, "conv_kernel": 3, "pair_features_version": 1, "alias_candidates": False,
        # decoding (training/loo.py --models re-decodes a saved fold model with other values)
        "snap_quantities": True, "add_missed_quantities": False, "indicator_bias": 0.0,
    },
    "train": {
        "epochs": 20, "batch_size": 32, "lr": 2e-3, "encoder_lr": None, "weight_decay": 0.01, "warmup": 0.1,
        "link_weight": 1.0, "noisy_candidates": True, "seed": 13, "device": "cpu", "threads": None, "patience": None,
        "local_files_only": True,
        "tune_indicator_bias": None,    # e.g. [0, 0.5, 1, 1.5, 2]: the decoding bias with the best dev score
    },
}


class ConfigError(ZhibiaoError):
    pass


# ---- config ------------------------------------------------------------------------------

# config values that are free-form maps (their keys are data, not config keys): replaced whole
FREE_MAPS = {("data", "oversample")}


def _merge(base: dict, over: dict, where: str, path: tuple[str, ...] = ()) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if k not in out:
            raise ConfigError(f"{where}: unknown config key {k!r}")
        if isinstance(out[k], dict) and isinstance(v, dict) and path + (k,) not in FREE_MAPS:
            out[k] = _merge(out[k], v, f"{where}.{k}", path + (k,))
        else:
            out[k] = v
    return out


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The defaults, updated by the YAML file, updated by ``key.sub=value`` overrides (YAML values)."""
    cfg = copy.deepcopy(DEFAULTS)
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read config ({exc})") from None
        cfg = _merge(cfg, data, str(path))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected key.sub=value")
        node = cfg
        parts = key.strip().split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise ConfigError(f"--set {item!r}: unknown section {p!r}")
            node = node[p]
        if parts[-1] not in node:
            raise ConfigError(f"--set {item!r}: unknown key {key!r}")
        node[parts[-1]] = yaml.safe_load(raw)
    return cfg


# ---- data --------------------------------------------------------------------------------

def read_annotations(paths: Sequence[str | Path], fmt: str = "auto", base: Path | None = None) -> list[AnnotatedDocument]:
    from .io.convert import read_any

    docs: list[AnnotatedDocument] = []
    for p in paths:
        p = Path(p)
        if base is not None and not p.is_absolute() and not p.exists():
            p = base / p
        docs.extend(read_any(p, fmt))
    return docs


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


def _batches(ds, batch_size: int, seed: int, epoch: int):
    """Shuffled batches of windows of similar length (shuffle, then sort inside chunks)."""
    order = list(range(len(ds)))
    random.Random(seed * 1000 + epoch).shuffle(order)
    lengths = [len(t) for t in ds["text"]]
    chunk = batch_size * 20
    batches = []
    for k in range(0, len(order), chunk):
        part = sorted(order[k:k + chunk], key=lambda i: lengths[i])
        batches += [part[j:j + batch_size] for j in range(0, len(part), batch_size)]
    random.Random(seed * 1000 + epoch + 1).shuffle(batches)
    return batches


def _merge_candidates(indicators, targets, extras):
    """Each window's linker candidates with its ``extras`` added (sorted), targets re-indexed."""
    new_inds, new_targets = [], []
    for cur, tg, extra in zip(indicators, targets, extras):
        cands = sorted(set(cur) | set(extra))
        remap = {k: cands.index(c) for k, c in enumerate(cur)}
        new_inds.append(cands)
        new_targets.append([remap[x] if x >= 0 else -1 for x in tg])
    return new_inds, new_targets


def _with_predicted_candidates(logits: torch.Tensor, texts, indicators, targets):
    """Add the tagger's own predicted INDICATOR spans that overlap no gold indicator to the
    linker's candidates, so that it learns to pass over the tagger's false positives."""
    from .model.network import spans_from_tags, viterbi

    seqs = viterbi(logits.cpu(), [len(t) for t in texts])
    extras = [[(s, e) for s, e, lab in spans_from_tags(seq) if lab == "INDICATOR"
               and not any(s < ge and gs < e for gs, ge in gold)] for seq, gold in zip(seqs, indicators)]
    return _merge_candidates(indicators, targets, extras)


def _with_alias_candidates(lexicon, texts, quantities, indicators, targets, alias_ends):
    """Add the taxonomy-alias matches that overlap no candidate and no quantity to the linker's
    candidates (:func:`~zhibiao.model.network.free_alias_spans`; ``alias_ends`` from the batch's
    lexicon features), as decoding does with ``model.alias_candidates``: the linker learns when such
    an untagged alias is the indicator."""
    from .model.network import free_alias_spans

    extras = [free_alias_spans(lexicon, t, list(cur) + list(qs), ends)
              for t, qs, cur, ends in zip(texts, quantities, indicators, alias_ends)]
    return _merge_candidates(indicators, targets, extras)


@dataclass
class TrainResult:
    model: Any
    metrics: dict[str, Any]
    output: Path | None


def training_documents(cfg: dict[str, Any], base: Path) -> tuple[list, list, list]:
    """``(all, train, dev)`` documents of a run: the data files less excluded splits and ids."""
    dc = cfg["data"]
    docs = read_annotations(dc["train"], dc.get("format", "auto"), base)
    excluded_splits = set(dc.get("exclude_splits") or [])
    excluded_ids = set(map(str, dc.get("exclude_ids") or []))
    docs = [d for d in docs if d.meta.get("split") not in excluded_splits and d.id not in excluded_ids]
    if not docs:
        raise ConfigError("no training documents left after exclude_splits / exclude_ids")
    splits = dc.get("dev_splits")
    train_docs, dev_docs = dev_split(docs, float(dc.get("dev_fraction") or 0), list(splits) if splits else None)
    return docs, train_docs, dev_docs


def _dev_score(m: dict[str, float]) -> float:
    """What checkpoint choice and decoding choice maximise on the dev split."""
    return m["link_relaxed_f1"] + 0.5 * m["quantity_f1"]


def tune_indicator_bias(model, dev_docs: Sequence[AnnotatedDocument], candidates: Sequence[float]
                        ) -> tuple[dict[str, Any], dict[str, float]]:
    """Set ``model.cfg.indicator_bias`` to the candidate with the best dev score (ties: the smallest);
    returns what was chosen from what, and the dev metrics with the chosen bias.

    A from-scratch tagger under-tags indicators (generic nouns such as 项目, 培训); a quantity whose
    indicator is not tagged cannot be linked. Biasing the INDICATOR tags up in decoding gives the
    linker more candidates; the dev split, never the test documents, says how much."""
    from .evaluate import evaluate

    found = {}
    for b in sorted(set(candidates)):
        model.cfg.indicator_bias = b
        found[b] = evaluate(dev_docs, model.predict_documents([d.text for d in dev_docs]), model.taxonomy)
    scores = {b: _dev_score(m) for b, m in found.items()}
    best = max(sorted(scores), key=lambda b: (scores[b], -b))
    model.cfg.indicator_bias = best
    return ({"indicator_bias": best, "dev_score_by_bias": {str(b): round(v, 4) for b, v in scores.items()}},
            found[best])


def train(cfg: dict[str, Any], output: str | Path | None = None, *, base_dir: str | Path | None = None,
          progress: bool = True) -> TrainResult:
    """Train a model as ``cfg`` (see :func:`load_config`) says; write it to ``output`` if given."""
    from tqdm.auto import tqdm

    from .evaluate import evaluate
    from .model.core import ZhibiaoModel
    from .model.network import Featurizer, ModelConfig
    from .taxonomy import Taxonomy

    t0 = time.time()
    tc, dc, mc = cfg["train"], cfg["data"], cfg["model"]
    base = Path(base_dir) if base_dir else Path.cwd()
    seed = int(tc["seed"])
    random.seed(seed)
    torch.manual_seed(seed)
    if tc.get("threads"):
        torch.set_num_threads(int(tc["threads"]))
    device = tc.get("device") or "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("train.device is cuda but no CUDA device is available")

    docs, train_docs, dev_docs = training_documents(cfg, base)
    taxonomy = Taxonomy.load(extend=dc.get("taxonomy"))

    model_cfg = ModelConfig(**{k: v for k, v in mc.items()})
    max_len = model_cfg.max_len
    over = {str(k): int(v) for k, v in (dc.get("oversample") or {}).items()}
    weighted = [d for d in train_docs for _ in range(max(1, over.get(str(d.meta.get("split")), 1)))]
    train_ds = build_dataset(weighted, max_len)
    n_real = len(train_ds)
    share = float(dc.get("generator_share") or 0)
    if share > 0:
        from .generate import generate_documents

        gen_docs = generate_documents(int(math.ceil(n_real * share)), taxonomy, seed=int(dc.get("generator_seed", 7)))
        import datasets

        train_ds = datasets.concatenate_datasets([train_ds, build_dataset(gen_docs, max_len)])
    model = ZhibiaoModel.create(model_cfg, taxonomy, train_ds["text"],
                                local_files_only=bool(tc.get("local_files_only", True)), device=device)
    net = model.net
    feat: Featurizer = model.featurizer

    enc_params = [p for n, p in net.named_parameters() if n.startswith("encoder.")]
    head_params = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    lr = float(tc["lr"])
    enc_lr = float(tc["encoder_lr"]) if tc.get("encoder_lr") else lr
    opt = torch.optim.AdamW([{"params": enc_params, "lr": enc_lr}, {"params": head_params, "lr": lr}],
                            weight_decay=float(tc["weight_decay"]))
    epochs = int(tc["epochs"])
    steps_per_epoch = max(1, math.ceil(len(train_ds) / int(tc["batch_size"])))
    total = epochs * steps_per_epoch
    warm = int(total * float(tc["warmup"]))

    def schedule(step: int) -> float:
        if step < warm:
            return (step + 1) / max(1, warm)
        return max(0.0, (total - step) / max(1, total - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    ce_tags = torch.nn.CrossEntropyLoss(ignore_index=-100)
    ce_links = torch.nn.CrossEntropyLoss()
    link_w = float(tc["link_weight"])
    noisy = bool(tc.get("noisy_candidates"))
    texts, spans_col = train_ds["text"], train_ds["spans"]
    qcol, icol, tcol = train_ds["quantities"], train_ds["indicators"], train_ds["targets"]

    history = []
    best, best_state, bad_epochs = -1.0, None, 0
    step = 0
    for epoch in range(epochs):
        net.train()
        batches = _batches(train_ds, int(tc["batch_size"]), seed, epoch)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        running = 0.0
        for k, idx in enumerate(bar):
            bt = [texts[i] for i in idx]
            bspans = [[(int(s), int(e), lab) for s, e, lab in spans_col[i]] for i in idx]
            alias_ends = [] if model.cfg.alias_candidates and model.lexicon is not None else None
            batch = model._to(feat.texts(bt, alias_ends=alias_ends))
            tags = Featurizer.tags(bt, bspans).to(model.device)
            states, logits = net.encode(batch)
            loss = ce_tags(logits.reshape(-1, logits.size(-1)), tags.reshape(-1))
            bq = [[tuple(x) for x in qcol[i]] for i in idx]
            if any(bq):
                bi = [[tuple(x) for x in icol[i]] for i in idx]
                bt_targets = [list(tcol[i]) for i in idx]
                if noisy and epoch > 0:
                    bi, bt_targets = _with_predicted_candidates(logits.detach(), bt, bi, bt_targets)
                if alias_ends is not None:
                    bi, bt_targets = _with_alias_candidates(model.lexicon, bt, bq, bi, bt_targets, alias_ends)
                links = model._to(feat.links(bt, bq, bi, bt_targets))
                loss = loss + link_w * ce_links(net.link_logits(states, links), links["target"])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            running += float(loss.detach())
            bar.set_postfix(loss=f"{running / (k + 1):.4f}")
        entry = {"epoch": epoch + 1, "loss": running / max(1, len(batches))}
        if dev_docs:
            m = evaluate(dev_docs, model.predict_documents([d.text for d in dev_docs]), taxonomy)
            entry.update({"dev_link_relaxed_f1": m["link_relaxed_f1"], "dev_quantity_f1": m["quantity_f1"]})
            score = _dev_score(m)
        else:
            score = -entry["loss"]
        history.append(entry)
        log.info("epoch %d: %s", epoch + 1, entry)
        if progress:
            tqdm.write(json.dumps(entry))
        if score > best:
            best, bad_epochs = score, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            entry["best"] = True
        else:
            bad_epochs += 1
            if tc.get("patience") and bad_epochs >= int(tc["patience"]):
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    metrics: dict[str, Any] = {
        "history": history,
        "n_train_documents": len(train_docs), "n_dev_documents": len(dev_docs),
        "n_train_windows": n_real, "n_generated_windows": len(train_ds) - n_real,
        "train_seconds": round(time.time() - t0, 1),
        "data_hash": data_hash(docs),
    }
    if dev_docs:
        if tc.get("tune_indicator_bias"):
            candidates = [float(b) for b in tc["tune_indicator_bias"]]
            metrics["decoding"], dev = tune_indicator_bias(model, dev_docs, candidates)
        else:
            dev = evaluate(dev_docs, model.predict_documents([d.text for d in dev_docs]), taxonomy)
        metrics["dev"] = {k: round(v, 4) for k, v in dev.items()}
    out_path = None
    if output is not None:
        out_path = model.save_pretrained(output)
        (out_path / "training_config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
                                                       encoding="utf-8")
        (out_path / "data_hash.txt").write_text(metrics["data_hash"] + "\n", encoding="utf-8")
        (out_path / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    return TrainResult(model=model, metrics=metrics, output=out_path)

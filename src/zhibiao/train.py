"""Training: a config -> documents and windows -> joint training loop -> a model folder.

    zhibiao train --config training/default.yaml --set train.epochs=5 --output models/mine

The config (:mod:`zhibiao.config`; ``training/default.yaml`` lists every key) fully describes a
run: data files and splits, the generator's share, model size, lexicon on/off, epochs, batch
size, learning rate, seed. :func:`train` runs it in named steps: check the config and the output
folder, read the data (:mod:`zhibiao.training_data`), build the model, fit (choosing the
checkpoint on the dev split), tune the decoding bias, save. The resolved config, a hash of the
training data and the metrics are written next to the weights. Same seed + same data gives the
same metrics on CPU.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
import yaml

from .config import ConfigError, TrainConfig, TrainingConfig, as_training_config, check_output_folder, load_config
from .records import AnnotatedDocument
from .training_data import (build_dataset, data_hash, dev_split, document_examples, read_annotations,
                            training_documents, training_windows)

__all__ = ["ConfigError", "TrainResult", "TrainingConfig", "build_dataset", "data_hash", "dev_split",
           "document_examples", "load_config", "read_annotations", "train", "training_documents",
           "tune_indicator_bias", "warmup_schedule"]

log = logging.getLogger(__name__)


# ---- batches and linker candidates -----------------------------------------------------------

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
    from .model.decoding import spans_from_tags, viterbi

    seqs = viterbi(logits.cpu(), [len(t) for t in texts])
    extras = [[(s, e) for s, e, lab in spans_from_tags(seq) if lab == "INDICATOR"
               and not any(s < ge and gs < e for gs, ge in gold)] for seq, gold in zip(seqs, indicators)]
    return _merge_candidates(indicators, targets, extras)


def _with_alias_candidates(lexicon, texts, quantities, indicators, targets, alias_ends):
    """Add the taxonomy-alias matches that overlap no candidate and no quantity to the linker's
    candidates (:func:`~zhibiao.model.featurization.free_alias_spans`; ``alias_ends`` from the batch's
    lexicon features), as decoding does with ``model.alias_candidates``: the linker learns when such
    an untagged alias is the indicator."""
    from .model.featurization import free_alias_spans

    extras = [free_alias_spans(lexicon, t, list(cur) + list(qs), ends)
              for t, qs, cur, ends in zip(texts, quantities, indicators, alias_ends)]
    return _merge_candidates(indicators, targets, extras)


@dataclass
class TrainResult:
    model: Any
    metrics: dict[str, Any]
    output: Path | None


# ---- choosing on the dev split ----------------------------------------------------------------

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


# ---- the fit loop ------------------------------------------------------------------------------

def warmup_schedule(total: int, warm: int) -> Callable[[int], float]:
    """The learning-rate factor at each step: linear warm-up over ``warm`` steps, then linear decay
    to 0 at ``total``. (Not ``transformers.get_linear_schedule_with_warmup``: that one starts the
    warm-up at 0, this one at ``1 / warm``; the committed models were trained with this one.)"""
    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / max(1, warm)
        return max(0.0, (total - step) / max(1, total - warm))
    return factor


def _optimizer(net: torch.nn.Module, tc: TrainConfig, n_windows: int):
    """AdamW (``encoder_lr`` for the encoder, ``lr`` for the heads) and its warm-up schedule."""
    enc_params = [p for n, p in net.named_parameters() if n.startswith("encoder.")]
    head_params = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    enc_lr = tc.encoder_lr if tc.encoder_lr else tc.lr
    opt = torch.optim.AdamW([{"params": enc_params, "lr": enc_lr}, {"params": head_params, "lr": tc.lr}],
                            weight_decay=tc.weight_decay)
    steps_per_epoch = max(1, -(-n_windows // tc.batch_size))
    total = tc.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_schedule(total, int(total * tc.warmup)))
    return opt, sched


class _Losses:
    """The loss of one batch of windows: tagger cross-entropy plus the weighted linker's."""

    def __init__(self, model, train_ds, tc: TrainConfig):
        self.model, self.tc = model, tc
        self.ce_tags = torch.nn.CrossEntropyLoss(ignore_index=-100)
        self.ce_links = torch.nn.CrossEntropyLoss()
        self.texts, self.spans = train_ds["text"], train_ds["spans"]
        self.qcol, self.icol, self.tcol = train_ds["quantities"], train_ds["indicators"], train_ds["targets"]

    def __call__(self, idx: Sequence[int], epoch: int) -> torch.Tensor:
        from .model.featurization import Featurizer

        model, net, feat = self.model, self.model.net, self.model.featurizer
        bt = [self.texts[i] for i in idx]
        bspans = [[(int(s), int(e), lab) for s, e, lab in self.spans[i]] for i in idx]
        alias_ends = [] if model.cfg.alias_candidates and model.lexicon is not None else None
        batch = model._to(feat.texts(bt, alias_ends=alias_ends))
        tags = Featurizer.tags(bt, bspans).to(model.device)
        states, logits = net.encode(batch)
        loss = self.ce_tags(logits.reshape(-1, logits.size(-1)), tags.reshape(-1))
        bq = [[tuple(x) for x in self.qcol[i]] for i in idx]
        if any(bq) and model.cfg.linker == "pointer":  # zhibiao.model.pointer: gold indicator per quantity
            from .model.pointer import pointer_train_loss

            golds = [[tuple(self.icol[i][t]) if t >= 0 else None for t in self.tcol[i]] for i in idx]
            return loss + self.tc.link_weight * pointer_train_loss(net, bt, bq, golds, batch, states, logits)
        if any(bq):
            bi = [[tuple(x) for x in self.icol[i]] for i in idx]
            bt_targets = [list(self.tcol[i]) for i in idx]
            if self.tc.noisy_candidates and epoch > 0:
                bi, bt_targets = _with_predicted_candidates(logits.detach(), bt, bi, bt_targets)
            if alias_ends is not None:
                bi, bt_targets = _with_alias_candidates(model.lexicon, bt, bq, bi, bt_targets, alias_ends)
            links = model._to(feat.links(bt, bq, bi, bt_targets))
            loss = loss + self.tc.link_weight * self.ce_links(net.link_logits(states, links), links["target"])
        return loss


def _train_epoch(model, train_ds, tc: TrainConfig, epoch: int, opt, sched, losses: _Losses, progress: bool) -> float:
    """One pass over the shuffled batches; the mean batch loss."""
    from tqdm.auto import tqdm

    net = model.net
    net.train()
    batches = _batches(train_ds, tc.batch_size, tc.seed, epoch)
    bar = tqdm(batches, desc=f"epoch {epoch + 1}/{tc.epochs}", disable=not progress, leave=False)
    running = 0.0
    for k, idx in enumerate(bar):
        loss = losses(idx, epoch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        running += float(loss.detach())
        bar.set_postfix(loss=f"{running / (k + 1):.4f}")
    return running / max(1, len(batches))


class _WeightAverage:
    """The running mean of a network's weights at the end of the last ``n`` of ``epochs`` epochs
    (``train.average_last``); floating tensors are averaged, the others keep their last value."""

    def __init__(self, n: int, epochs: int):
        self.first, self.count = max(0, epochs - n), 0
        self.sums: dict[str, torch.Tensor] = {}

    def add(self, net: torch.nn.Module, epoch: int) -> bool:
        """Add the weights at the end of ``epoch`` (0-based) if it is one of the last; whether it is."""
        if epoch < self.first:
            return False
        for k, v in net.state_dict().items():
            v = v.detach()
            self.sums[k] = self.sums.get(k, 0) + v.double() if v.is_floating_point() else v.clone()
        self.count += 1
        return True

    def state(self, net: torch.nn.Module) -> dict[str, torch.Tensor]:
        ref = net.state_dict()
        return {k: (v / self.count).to(ref[k].dtype) if ref[k].is_floating_point() else v
                for k, v in self.sums.items()}


def _epoch_entry(model, train_ds, dev_docs, tc: TrainConfig, epoch: int, opt, sched, losses, progress: bool):
    """Train one epoch; its history entry (loss, dev scores) and its score (dev; else minus the loss)."""
    from .evaluate import evaluate

    entry: dict[str, Any] = {"epoch": epoch + 1,
                             "loss": _train_epoch(model, train_ds, tc, epoch, opt, sched, losses, progress)}
    if dev_docs:
        m = evaluate(dev_docs, model.predict_documents([d.text for d in dev_docs]), model.taxonomy)
        entry.update({"dev_link_relaxed_f1": m["link_relaxed_f1"], "dev_quantity_f1": m["quantity_f1"]})
        return entry, _dev_score(m)
    return entry, -entry["loss"]


def _fit(model, train_ds, dev_docs: Sequence[AnnotatedDocument], tc: TrainConfig, progress: bool) -> list[dict]:
    """Train for ``tc.epochs`` (or until ``tc.patience`` epochs bring no better dev score) and keep
    the weights of the best epoch (dev score; without dev documents, the lowest loss), or with
    ``tc.average_last`` the mean of the last epochs' weights. Returns the per-epoch history."""
    from tqdm.auto import tqdm

    net = model.net
    opt, sched = _optimizer(net, tc, len(train_ds))
    losses = _Losses(model, train_ds, tc)
    average = _WeightAverage(tc.average_last, tc.epochs) if tc.average_last else None
    history: list[dict[str, Any]] = []
    best, best_state, bad_epochs = -1.0, None, 0
    for epoch in range(tc.epochs):
        entry, score = _epoch_entry(model, train_ds, dev_docs, tc, epoch, opt, sched, losses, progress)
        if average is not None and average.add(net, epoch):
            entry["averaged"] = True
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
            if tc.patience and bad_epochs >= tc.patience:
                break
    if average is not None and average.count:
        best_state = average.state(net)
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return history


# ---- the steps of a run --------------------------------------------------------------------------

def _start(tc: TrainConfig) -> str:
    """Seed the random generators, set the thread count; the device, checked."""
    random.seed(tc.seed)
    torch.manual_seed(tc.seed)
    if tc.threads:
        torch.set_num_threads(tc.threads)
    device = tc.device or "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("train.device is cuda but no CUDA device is available")
    return device


def _build_model(cfg: TrainingConfig, taxonomy, texts: Sequence[str], device: str):
    """A new model of ``cfg.model`` (a copy: creation fills in its sizes) over the training texts."""
    from .model.core import ZhibiaoModel

    return ZhibiaoModel.create(copy.deepcopy(cfg.model), taxonomy, texts,
                               local_files_only=cfg.train.local_files_only, device=device)


def _fit_members(cfg: TrainingConfig, taxonomy, train_ds, dev_docs: Sequence[AnnotatedDocument], device: str,
                 progress: bool):
    """The trained model and each network's history: ``model.ensemble`` networks, network ``k`` trained
    with seed ``train.seed + k`` exactly as a run of that seed alone would train it."""
    from .model.core import ZhibiaoModel

    models, histories = [], []
    for k in range(cfg.model.ensemble):
        tc = dataclasses.replace(cfg.train, seed=cfg.train.seed + k)
        if k:
            _start(tc)  # network 0 trains on the seeding of the run's start (bit-identical to before)
        models.append(_build_model(cfg, taxonomy, train_ds["text"], device))
        histories.append(_fit(models[-1], train_ds, dev_docs, tc, progress))
    return (models[0] if len(models) == 1 else ZhibiaoModel.ensemble(models)), histories


def _dev_metrics(model, dev_docs: Sequence[AnnotatedDocument], tc: TrainConfig) -> dict[str, Any]:
    """The decoding bias chosen on dev (``train.tune_indicator_bias``) and the dev metrics."""
    from .evaluate import evaluate

    out: dict[str, Any] = {}
    if tc.tune_indicator_bias:
        out["decoding"], dev = tune_indicator_bias(model, dev_docs, [float(b) for b in tc.tune_indicator_bias])
    else:
        dev = evaluate(dev_docs, model.predict_documents([d.text for d in dev_docs]), model.taxonomy)
    out["dev"] = {k: round(v, 4) for k, v in dev.items()}
    return out


def _save_run(model, cfg: TrainingConfig, metrics: dict[str, Any], output: str | Path) -> Path:
    """The model folder, with the resolved config, the data hash and the metrics beside the weights."""
    out_path = model.save_pretrained(output)
    (out_path / "training_config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), allow_unicode=True, sort_keys=False),
                                                   encoding="utf-8")
    (out_path / "data_hash.txt").write_text(metrics["data_hash"] + "\n", encoding="utf-8")
    (out_path / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    return out_path


def train(cfg: TrainingConfig | Mapping[str, Any], output: str | Path | None = None, *,
          base_dir: str | Path | None = None, progress: bool = True) -> TrainResult:
    """Train a model as ``cfg`` (see :func:`~zhibiao.config.load_config`) says; write it to ``output``
    if given. ``base_dir``: where relative data paths are read from when ``cfg`` did not come from a
    file (a config file's paths are read from its own folder); default the working directory."""
    from .taxonomy import Taxonomy

    cfg = as_training_config(cfg)
    cfg.check_paths(base_dir)
    if output is not None:
        check_output_folder(output)
    t0 = time.time()
    device = _start(cfg.train)
    docs, train_docs, dev_docs = training_documents(cfg, base_dir)
    taxonomy = Taxonomy.load(extend=cfg.data_paths("taxonomy", base_dir) or None)
    train_ds, n_real = training_windows(cfg, train_docs, taxonomy)
    model, history = _fit_members(cfg, taxonomy, train_ds, dev_docs, device, progress)
    metrics: dict[str, Any] = {
        "history": history[0] if len(history) == 1 else history,
        "n_train_documents": len(train_docs), "n_dev_documents": len(dev_docs),
        "n_train_windows": n_real, "n_generated_windows": len(train_ds) - n_real,
        "train_seconds": round(time.time() - t0, 1),
        "data_hash": data_hash(docs),
    }
    if dev_docs:
        metrics.update(_dev_metrics(model, dev_docs, cfg.train))
    out_path = _save_run(model, cfg, metrics, output) if output is not None else None
    return TrainResult(model=model, metrics=metrics, output=out_path)

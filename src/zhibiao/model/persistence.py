"""A model folder (GLiNER / Hugging Face style): writing one and reading one back::

    config.json            ModelConfig (the network's shape, the encoder's own config if pretrained) and
                           ``zhibiao_version``: the library version that wrote the folder
    model.safetensors      the weights: only safetensors are ever read
    vocab.txt              the character vocabulary (from-scratch encoder)
    tokenizer/             the tokenizer files (pretrained encoder)
    lexicon.json           the lexicon of the SoftLexicon features (when on)
    taxonomy.yaml          the indicator taxonomy snapshot the model was trained with
    training_config.yaml   the resolved training config;  data_hash.txt;  metrics.json (zhibiao.train)

Loading checks every file and names what is missing or wrong; weights in a pickle format
(``.bin``, ``.pt``, ``.pth``, ``.pkl``, ``.ckpt``) are refused, never unpickled. Nothing here
touches the network (no downloads).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from .._version import __version__
from ..errors import ModelLoadError
from ..taxonomy import Taxonomy
from .config import ModelConfig
from .lexicon import Lexicon
from .modules import CharEncoder, PretrainedEncoder, ZhibiaoNet
from .vocab import CharVocab

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
VERSION_KEY = "zhibiao_version"  # in config.json: the library version that saved the folder (not a ModelConfig field)


class ModelParts(NamedTuple):
    """What a model folder holds, in the order ``ZhibiaoModel(...)`` takes it."""

    cfg: ModelConfig
    net: ZhibiaoNet
    vocab: CharVocab | None
    lexicon: Lexicon | None
    taxonomy: Taxonomy
    tokenizer: Any
    members: list[ZhibiaoNet]  # an ensemble's further networks (config ``ensemble``), else empty


def save_model_folder(model, path: str | Path) -> Path:
    """Write ``model`` (a :class:`~zhibiao.model.core.ZhibiaoModel`) as a model folder at ``path``."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config = {VERSION_KEY: __version__, **model.cfg.to_dict(), "ensemble": len(model.nets)}
    (path / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    state = {f"{_prefix(i)}{k}": v.detach().cpu().contiguous()
             for i, net in enumerate(model.nets) for k, v in net.state_dict().items()}
    # one metadata key: safetensors writes its metadata map in a random order, so two keys would make
    # the same weights different bytes from run to run (the library version is in config.json)
    save_file(state, str(path / "model.safetensors"), metadata={"format": "pt"})
    if model.vocab is not None:
        model.vocab.save(path / "vocab.txt")
    if model.tokenizer is not None:
        model.tokenizer.save_pretrained(str(path / "tokenizer"))
    if model.lexicon is not None:
        model.lexicon.save(path / "lexicon.json")
    (path / "taxonomy.yaml").write_text(model.taxonomy.to_yaml(), encoding="utf-8")
    return path


def load_model_folder(path: str | Path) -> ModelParts:
    """Read and check a model folder; the network comes back in eval mode with its weights."""
    path = Path(path)
    weights = _check_files(path)
    cfg = _read_config(path / "config.json")
    taxonomy = Taxonomy.load(path / "taxonomy.yaml")
    lexicon = None
    if cfg.lexicon:
        if not (path / "lexicon.json").exists():
            raise ModelLoadError(f"{path}: missing lexicon.json (the config has lexicon features on)")
        lexicon = Lexicon.load(path / "lexicon.json")
    net, vocab, tokenizer = _empty_network(cfg, path)
    nets = [net] + [_empty_network(cfg, path)[0] for _ in range(cfg.ensemble - 1)]
    _load_weights(nets, weights)
    for n in nets:
        n.eval()
    return ModelParts(cfg, net, vocab, lexicon, taxonomy, tokenizer, nets[1:])


def _prefix(member: int) -> str:
    """The weight-name prefix of an ensemble's network ``member`` (none for the first: a single
    network's file is as it always was)."""
    return f"members.{member}." if member else ""


def saved_version(path: str | Path) -> str | None:
    """The zhibiao version that saved the model folder ``path`` (``None``: a folder saved before the stamp existed)."""
    value = json.loads((Path(path) / "config.json").read_text(encoding="utf-8")).get(VERSION_KEY)
    return str(value) if value is not None else None


def _read_config(file: Path) -> ModelConfig:
    """``config.json`` as a :class:`ModelConfig` (the version stamp set aside; a folder written by another
    zhibiao version that the config does not fit is named with both versions)."""
    try:
        d = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        saved = d.pop(VERSION_KEY, None)
        try:
            return ModelConfig.from_dict(d)
        except (ValueError, TypeError) as exc:
            if saved is not None and str(saved) != __version__:
                raise ValueError(f"{exc}; the folder was saved by zhibiao {saved}, this is zhibiao {__version__}") from None
            raise
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"{file}: invalid model config ({exc})") from None


def _check_files(path: Path) -> Path:
    """The weights file of the folder ``path``, after checking the files every model folder has."""
    if not path.is_dir():
        raise ModelLoadError(f"{path}: not a model folder (no such directory)")
    weights = path / "model.safetensors"
    if not weights.exists():
        pickles = sorted(p.name for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise ModelLoadError(f"{path}: weights are in a pickle format ({', '.join(pickles)}); zhibiao only "
                                 "loads model.safetensors and never unpickles files")
        raise ModelLoadError(f"{path}: missing model.safetensors")
    for name in ("config.json", "taxonomy.yaml"):
        if not (path / name).exists():
            raise ModelLoadError(f"{path}: missing {name}")
    return weights


def _empty_network(cfg: ModelConfig, path: Path) -> tuple[ZhibiaoNet, CharVocab | None, Any]:
    """``(net, vocab, tokenizer)`` of the folder: the network built from ``cfg``, weights not loaded."""
    if cfg.base_model:
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        if not (path / "tokenizer").is_dir():
            raise ModelLoadError(f"{path}: missing tokenizer/ (the model uses a pretrained encoder)")
        enc_cfg = dict(cfg.encoder_config)
        model_type = enc_cfg.pop("model_type", None)
        if not model_type:
            raise ModelLoadError(f"{path / 'config.json'}: encoder_config lacks model_type")
        encoder = AutoModel.from_config(AutoConfig.for_model(model_type, **enc_cfg))
        tokenizer = AutoTokenizer.from_pretrained(str(path / "tokenizer"), local_files_only=True, use_fast=True)
        return ZhibiaoNet(cfg, PretrainedEncoder(cfg, encoder)), None, tokenizer
    if not (path / "vocab.txt").exists():
        raise ModelLoadError(f"{path}: missing vocab.txt")
    vocab = CharVocab.load(path / "vocab.txt")
    if len(vocab) != cfg.vocab_size:
        raise ModelLoadError(f"{path}: vocab.txt has {len(vocab)} entries but config.json says {cfg.vocab_size}")
    return ZhibiaoNet(cfg, CharEncoder(cfg)), vocab, None


def _load_weights(nets: list[ZhibiaoNet], weights: Path) -> None:
    """Load ``weights`` (safetensors only) into ``nets`` (one, or an ensemble's), naming missing,
    unexpected or misshapen tensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{weights}: not a readable safetensors file ({exc})") from None
    expected = {f"{_prefix(i)}{k}": v for i, net in enumerate(nets) for k, v in net.state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ModelLoadError(f"{weights}: weights do not match config.json (missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]})")
    bad = [f"{k}: file {tuple(state[k].shape)} vs config {tuple(v.shape)}"
           for k, v in expected.items() if tuple(state[k].shape) != tuple(v.shape)]
    if bad:
        raise ModelLoadError(f"{weights}: wrong tensor shapes for config.json: " + "; ".join(bad[:5]))
    for i, net in enumerate(nets):
        own = {k: v for k, v in state.items() if _member_of(k) == i}
        net.load_state_dict({k[len(_prefix(i)):]: v for k, v in own.items()})


def _member_of(key: str) -> int:
    return int(key.split(".")[1]) if key.startswith("members.") else 0

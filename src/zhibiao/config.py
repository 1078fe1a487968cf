"""The training configuration: three typed sections, their defaults, and the checks that run before
any work.

    data:   DataConfig    what to train on (files, splits, corrections, the generator's share)
    model:  ModelConfig   the network and its decoding (:mod:`zhibiao.model.config`: its settable fields)
    train:  TrainConfig   the optimisation (epochs, batch size, learning rate, seed, device)

:func:`load_config` reads a YAML file (``training/default.yaml`` lists every key) over the
defaults declared here, then ``key.sub=value`` overrides. Every value is checked against its
field's type and range; a misspelt key is an error that suggests the nearest one.

Paths (``data.train``, ``data.corrections``, ``data.taxonomy``) written in a config file are read
relative to that file's folder; an override's relative path (``--set data.train=[x.jsonl]``) is
relative to the working directory; absolute paths stay as they are. A config built without a file
(:meth:`TrainingConfig.from_dict`) resolves relative paths against the ``base_dir`` the caller
gives (``train(cfg, base_dir=...)``), else the working directory.
"""
from __future__ import annotations

import copy
import difflib
import os
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from .errors import ZhibiaoError
from .model.config import ModelConfig

PATH = {"path": True}  # field metadata: a file path, resolved as the module doc says


class ConfigError(ZhibiaoError):
    pass


def _read_formats() -> tuple[str, ...]:
    from .io.convert import READ_FORMATS

    return tuple(READ_FORMATS)


@dataclass
class DataConfig:
    train: list[str] = field(default_factory=lambda: ["annotations/seeds.jsonl", "annotations/authored.jsonl"],
                             metadata=PATH)
    format: str = field(default="auto", metadata={"choices": _read_formats})  # by content when auto
    exclude_splits: list[str] = field(default_factory=lambda: ["heldout"])  # meta.split values never trained on
    exclude_ids: list[str | int] = field(default_factory=list)  # document ids left out (leave-one-out)
    # share of training documents held back for checkpoint choice
    dev_fraction: float = field(default=0.1, metadata={"min": 0.0, "max": 1.0})
    dev_splits: list[str] | None = None  # draw the dev documents only from these meta.split values (None: any)
    # generated windows, as a share of the real training windows
    generator_share: float = field(default=0.0, metadata={"min": 0.0})
    generator_seed: int = 7
    oversample: dict[str, int] = field(default_factory=dict)  # meta.split -> times its windows repeat ({seed: 3})
    taxonomy: str | list[str] | None = field(default=None, metadata=PATH)  # extra taxonomy YAML (extends the bundled one)
    # stand-off correction overlays applied to the documents read (zhibiao.io.corrections)
    corrections: list[str] = field(default_factory=list, metadata=PATH)


@dataclass
class TrainConfig:
    epochs: int = field(default=20, metadata={"min": 1})
    batch_size: int = field(default=32, metadata={"min": 1})
    lr: float = field(default=2e-3, metadata={"gt": 0.0})
    encoder_lr: float | None = field(default=None, metadata={"gt": 0.0})  # None: lr
    weight_decay: float = field(default=0.01, metadata={"min": 0.0})
    warmup: float = field(default=0.1, metadata={"min": 0.0, "max": 1.0})  # share of the steps
    link_weight: float = field(default=1.0, metadata={"min": 0.0})
    noisy_candidates: bool = True  # also train the linker on the tagger's own false-positive indicators
    seed: int = 13
    device: str = "cpu"
    threads: int | None = field(default=None, metadata={"min": 1})
    patience: int | None = field(default=None, metadata={"min": 1})  # epochs without a better dev score
    # keep the mean of the weights at the end of the last N epochs instead of the best epoch's
    average_last: int | None = field(default=None, metadata={"min": 1})
    local_files_only: bool = True
    # e.g. [0, 0.5, 1, 1.5, 2]: the decoding bias with the best dev score
    tune_indicator_bias: list[float] | None = None


SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def _section_keys(cls: type) -> list[str]:
    return cls.settable_fields() if cls is ModelConfig else [f.name for f in fields(cls)]


def _unknown(kind: str, name: str, known: Sequence[str]) -> str:
    near = difflib.get_close_matches(name, list(known), n=1)
    return f"unknown {kind} {name!r}" + (f"; did you mean {near[0]!r}?" if near else "")


# ---- values --------------------------------------------------------------------------------

def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else str(tp)


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """``value`` checked against the type ``tp`` (an int is accepted where a float is expected)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is not type(None):
                try:
                    return _coerce(value, arg, key)
                except ConfigError:
                    pass
    elif origin is list and isinstance(value, list):
        return [_coerce(v, args[0], f"{key}[{k}]") for k, v in enumerate(value)]
    elif origin is dict and isinstance(value, dict):
        return {_coerce(k, args[0], key): _coerce(v, args[1], f"{key}.{k}") for k, v in value.items()}
    elif tp is Any or (tp in (bool, str) and isinstance(value, tp)):
        return value
    elif tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")


def _check_range(value: Any, meta: Mapping[str, Any], key: str) -> None:
    if value is None:
        return
    choices = meta.get("choices")
    if choices is not None:
        allowed = choices() if callable(choices) else choices
        if value not in allowed:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, allowed))}")
    if "gt" in meta and not value > meta["gt"]:
        raise ConfigError(f"{key}: must be greater than {meta['gt']}, got {value!r}")
    if "min" in meta and value < meta["min"]:
        raise ConfigError(f"{key}: must be at least {meta['min']}, got {value!r}")
    if "max" in meta and value > meta["max"]:
        raise ConfigError(f"{key}: must be at most {meta['max']}, got {value!r}")


def _field_value(cls: type, name: str, value: Any, key: str) -> Any:
    """``value`` for field ``name`` of section ``cls``, checked for type and range."""
    spec = next(f for f in fields(cls) if f.name == name)
    value = _coerce(value, typing.get_type_hints(cls)[name], key)
    _check_range(value, spec.metadata, key)
    return value


def _as_paths(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


# ---- the configuration ------------------------------------------------------------------------

@dataclass
class TrainingConfig:
    """A whole training run. ``config_dir``: the folder of the file it was read from (relative paths
    in it are read from there); not a config key."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    config_dir: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, *, config_dir: str | Path | None = None,
                  where: str = "config") -> "TrainingConfig":
        """The defaults updated by the sections of ``d`` (a nested mapping as in the YAML file)."""
        cfg = cls(config_dir=None if config_dir is None else str(config_dir))
        if not isinstance(d or {}, Mapping):
            raise ConfigError(f"{where}: expected a mapping of sections ({', '.join(SECTIONS)})")
        for section, values in (d or {}).items():
            if section not in SECTIONS:
                raise ConfigError(f"{where}: " + _unknown("config section", str(section), list(SECTIONS)))
            if not isinstance(values or {}, Mapping):
                raise ConfigError(f"{where}.{section}: expected a mapping of keys, got {values!r}")
            for name, value in (values or {}).items():
                cfg._set(section, str(name), value, f"{where}.{section}", unknown_kind="config key")
        return cfg

    def _set(self, section: str, name: str, value: Any, where: str, unknown_kind: str = "key") -> None:
        cls = SECTIONS[section]
        known = _section_keys(cls)
        if name not in known:
            raise ConfigError(f"{where}: " + _unknown(unknown_kind, name, known))
        setattr(getattr(self, section), name, _field_value(cls, name, value, f"{section}.{name}"))

    def with_overrides(self, overrides: Sequence[str]) -> "TrainingConfig":
        """A checked copy with ``section.key=value`` overrides applied (values in YAML syntax); a
        relative path in an override is taken from the working directory."""
        cfg = copy.deepcopy(self)
        for item in overrides:
            key, sep, raw = item.partition("=")
            parts = key.strip().split(".")
            if not sep or len(parts) != 2:
                raise ConfigError(f"--set {item!r}: expected key.sub=value")
            section, name = parts
            if section not in SECTIONS:
                raise ConfigError(f"--set {item!r}: " + _unknown("section", section, list(SECTIONS)))
            try:
                value = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ConfigError(f"--set {item!r}: not a YAML value ({exc})") from None
            known = _section_keys(SECTIONS[section])
            if name not in known:
                raise ConfigError(f"--set {item!r}: " + _unknown("key", key.strip(), [f"{section}.{k}" for k in known]))
            cfg._set(section, name, value, f"--set {item!r}")
            if (SECTIONS[section] is DataConfig and name in _path_fields()) and value is not None:
                resolved = [str(Path(p).absolute()) for p in _as_paths(getattr(cfg.data, name))]
                setattr(cfg.data, name, resolved[0] if isinstance(getattr(cfg.data, name), str) else resolved)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The plain nested dict of the config keys (what ``training_config.yaml`` holds)."""
        return {section: {k: copy.deepcopy(getattr(getattr(self, section), k)) for k in _section_keys(cls)}
                for section, cls in SECTIONS.items()}

    # ---- paths ----------------------------------------------------------------------------
    def base_dir(self, fallback: str | Path | None = None) -> Path:
        """The folder relative paths are read from: the config file's, else ``fallback``, else the
        working directory."""
        if self.config_dir is not None:
            return Path(self.config_dir)
        return Path(fallback) if fallback is not None else Path.cwd()

    def resolve(self, path: str | Path, fallback: str | Path | None = None) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.base_dir(fallback) / p

    def data_paths(self, name: str, fallback: str | Path | None = None) -> list[Path]:
        """The resolved paths of the path field ``data.<name>`` (train, corrections, taxonomy)."""
        return [self.resolve(p, fallback) for p in _as_paths(getattr(self.data, name))]

    def check_paths(self, fallback: str | Path | None = None) -> None:
        """Every file the config names exists (before any work is done)."""
        for name in _path_fields():
            for p in self.data_paths(name, fallback):
                if not p.exists():
                    raise ConfigError(f"data.{name}: {p} does not exist (relative paths are read from "
                                      f"{self.base_dir(fallback)}: " + ("the config file's folder)"
                                                                        if self.config_dir else "the base folder)"))


def _path_fields() -> list[str]:
    return [f.name for f in fields(DataConfig) if f.metadata.get("path")]


def as_training_config(cfg: TrainingConfig | Mapping[str, Any]) -> TrainingConfig:
    """``cfg`` itself, or the :class:`TrainingConfig` of a nested dict (see ``from_dict``)."""
    return cfg if isinstance(cfg, TrainingConfig) else TrainingConfig.from_dict(cfg)


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainingConfig:
    """The defaults, updated by the YAML file, updated by ``section.key=value`` overrides; checked."""
    cfg = TrainingConfig()
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read config ({exc})") from None
        cfg = TrainingConfig.from_dict(data, config_dir=Path(path).resolve().parent, where=str(path))
    return cfg.with_overrides(overrides)


def check_output_folder(output: str | Path, require_empty: bool = False) -> None:
    """The model folder ``output`` can be created (or written, when it exists): checked before training.
    With ``require_empty`` (``zhibiao train`` without ``--overwrite``) an existing folder must be empty."""
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {out}: exists and is not a folder")
    if require_empty and out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"output {out}: exists and is not empty (choose a new folder, or pass --overwrite "
                          "to replace the model files in it)")
    probe = out.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"output {out}: cannot be created ({probe} is not a folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"output {out}: cannot be created or written (no write permission in {probe})")

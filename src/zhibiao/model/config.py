"""``ModelConfig``: the network's shape and decoding switches, saved as ``config.json`` in a model
folder; and the tag set of the BIO tagger.

The fields a training config may set (its ``model:`` section, :mod:`zhibiao.config`) have their
defaults here and nowhere else; the fields marked ``derived`` are filled in when a model is
created (vocabulary and lexicon sizes, a pretrained encoder's own config). ``min`` / ``max`` /
``choices`` in a field's metadata are the ranges :mod:`zhibiao.config` checks.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

TAGS = ("O", "B-QUANTITY", "I-QUANTITY", "B-INDICATOR", "I-INDICATOR")
TAG_ID = {t: i for i, t in enumerate(TAGS)}

DERIVED = {"derived": True}  # field metadata: set by ZhibiaoModel.create, never by a training config


def _at_least(low: float) -> dict[str, Any]:
    return {"min": low}


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network (saved as ``config.json`` in a model folder)."""

    base_model: str | None = None  # a Hugging Face encoder name or local path (None: from scratch)
    vocab_size: int = field(default=0, metadata=DERIVED)
    hidden_size: int = field(default=128, metadata=_at_least(1))
    num_layers: int = field(default=2, metadata=_at_least(1))
    num_heads: int = field(default=4, metadata=_at_least(1))
    intermediate_size: int = field(default=512, metadata=_at_least(1))
    max_len: int = field(default=160, metadata=_at_least(1))
    dropout: float = field(default=0.1, metadata={"min": 0.0, "max": 1.0})
    lexicon: bool = True           # SoftLexicon features from the taxonomy's aliases and domain words
    lex_dim: int = field(default=32, metadata=_at_least(1))
    n_lex_words: int = field(default=0, metadata=DERIVED)
    n_lex_categories: int = field(default=0, metadata=DERIVED)
    lex_slots: int = field(default=3, metadata=DERIVED)
    span_dim: int = field(default=128, metadata=_at_least(1))
    link_hidden: int = field(default=128, metadata=_at_least(1))
    char_classes: bool = True      # embedding of the character's class (digit, numeral, punctuation ...)
    snap_quantities: bool = True   # decoding: predicted quantity edges snap to the quantity grammar
    indicator_bias: float = 0.0    # decoding: added to the INDICATOR tags' log-probabilities (chosen on dev)
    # 2: the linker also sees whether 的 lies between quantity and candidate
    pair_features_version: int = field(default=1, metadata={"choices": (1, 2)})
    add_missed_quantities: bool = False  # decoding: digit-led grammar quantities the tagger missed are added
    # residual local convolution before the transformer (0: off)
    conv_kernel: int = field(default=3, metadata=_at_least(0))
    alias_candidates: bool = False  # taxonomy-alias matches the tagger left untagged are linker candidates too
    # "candidates": a softmax over the tagged INDICATOR spans (+ aliases) per quantity; "pointer": a
    # quantity-conditioned start/end pointer over the sentence (zhibiao.model.pointer)
    linker: str = field(default="candidates", metadata={"choices": ("candidates", "pointer")})
    pointer_max_len: int = field(default=16, metadata=_at_least(1))  # longest indicator the pointer decodes
    pointer_hidden: int = field(default=64, metadata=_at_least(1))
    pointer_detach_tags: bool = True  # the tagger's INDICATOR probabilities reach the pointer without gradient
    skip_place_names: bool = False  # pointer decoding: a place name (某某村, 某某镇) is never a quantity's indicator (zhibiao.model.places)
    # networks trained with seeds train.seed, train.seed + 1, ... that vote at prediction (their mean
    # tag and pointer log-probabilities): each one more costs its training time and its share of the speed
    ensemble: int = field(default=1, metadata=_at_least(1))
    tags: tuple[str, ...] = field(default=TAGS, metadata=DERIVED)
    # HF config of a pretrained encoder
    encoder_config: dict[str, Any] = field(default_factory=dict, metadata=DERIVED)

    @classmethod
    def settable_fields(cls) -> list[str]:
        """The fields a training config's ``model:`` section may set, in declaration order."""
        return [f.name for f in fields(cls) if not f.metadata.get("derived")]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tags"] = list(self.tags)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        d = dict(d)
        if "tags" in d:
            d["tags"] = tuple(d["tags"])
        return cls(**d)

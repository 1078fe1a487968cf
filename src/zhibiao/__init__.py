"""zhibiao (指标): quantities linked to the indicators they measure, from Chinese rural-revitalisation reports.

    import zhibiao
    nlp = zhibiao.load()                 # the shipped default model
    for r in nlp("脱贫户776户1605人"):
        print(r.indicator, r.quantity, r.value, r.unit)
"""
from __future__ import annotations

from .records import AnnotatedDocument, Document, Link, Prediction, Record, Span

__version__ = "0.1.0"

__all__ = ["load", "Extractor", "Record", "Document", "Span", "Link", "AnnotatedDocument", "Prediction", "__version__"]


def load(path=None, device: str = "cpu", **kwargs):
    """Load an :class:`~zhibiao.extract.Extractor` (no argument: the shipped default model;
    ``"rules"``: the rule baseline)."""
    from .extract import load as _load

    return _load(path, device=device, **kwargs)


def __getattr__(name):
    if name == "Extractor":
        from .extract import Extractor

        return Extractor
    raise AttributeError(name)

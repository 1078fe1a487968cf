"""zhibiao (指标): quantities linked to the indicators they measure, from Chinese rural-revitalisation reports.

    import zhibiao
    nlp = zhibiao.load()                 # the shipped default model
    for r in nlp("脱贫户776户1605人"):
        print(r.indicator, r.quantity, r.value, r.unit)

``import zhibiao`` is cheap: torch and the model load only inside :func:`load`; transformers only for
a model built on a Hugging Face base model.
Errors: :mod:`zhibiao.errors` (``zhibiao.errors.ZhibiaoError`` is the base of all of them).
"""
from __future__ import annotations

from . import errors
from ._version import __version__
from .extract import Extractor, load, records_to_dataframe
from .records import AnnotatedDocument, Document, Link, Prediction, Record, Span

__all__ = ["load", "Extractor", "records_to_dataframe", "Record", "Document", "Span", "Link", "AnnotatedDocument",
           "Prediction", "errors", "__version__"]

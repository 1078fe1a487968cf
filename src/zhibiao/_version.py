"""The library version, in one place: ``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``),
``zhibiao.__version__`` re-exports it, and a saved model folder records it in ``config.json``
(``zhibiao_version``)."""

__version__ = "0.1.0"

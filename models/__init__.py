"""Data package holding the shipped model folders (``default/``); see models/README.md."""

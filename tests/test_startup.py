"""Start-up: import work only where it is needed (issue 16, case 10), and every third-party import
of the library a declared dependency. Each check runs in a fresh interpreter (``sys.modules``)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
SHIPPED = (ROOT / "models" / "default" / "model.safetensors").exists()

#: what a plain-text extract never needs: Hugging Face (only for a pretrained base model), the
#: table / Parquet / Excel / office / HTML / spaCy / Ray / training paths
NOT_FOR_TEXT = ["transformers", "datasets", "pandas", "spacy", "ray", "pyarrow", "openpyxl", "pdfplumber",
                "docx", "selectolax", "seqeval"]


def _loaded(code: str, names: list[str]) -> list[str]:
    """The ``names`` among the modules imported after running ``code`` in a new interpreter."""
    probe = f"{code}\nimport sys, json; print(json.dumps(sorted(set({names!r}) & set(sys.modules))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library():
    assert _loaded("import zhibiao.cli", NOT_FOR_TEXT + ["torch"]) == []


@pytest.mark.skipif(not SHIPPED, reason="no shipped model in models/default")
def test_the_shipped_model_loads_and_runs_without_transformers():
    code = ("import zhibiao; nlp = zhibiao.load()\n"
            "assert nlp('2023年全镇脱贫户776户1605人,监测户94户190人。')")
    assert _loaded(code, NOT_FOR_TEXT) == []


@pytest.mark.skipif(not SHIPPED, reason="no shipped model in models/default")
def test_a_plain_text_extract_loads_no_heavy_library(tmp_path):
    report = tmp_path / "one_report.txt"
    report.write_text("2023年全镇脱贫户776户1605人,监测户94户190人。\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = (f"import zhibiao.cli\n"
            f"assert zhibiao.cli.main(['extract', {str(report)!r}, '-o', {str(out)!r}]) == 0")
    assert _loaded(code, NOT_FOR_TEXT) == []
    assert out.read_text(encoding="utf-8").strip()


def _third_party_imports() -> set[str]:
    """Top-level names of every absolute import under src/zhibiao that is not the standard library."""
    names: set[str] = set()
    for path in (SRC / "zhibiao").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "zhibiao"}


def _declared() -> set[str]:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {_canonical(r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0]) for r in reqs}


def _canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def test_every_third_party_import_is_a_declared_dependency():
    providers = metadata.packages_distributions()
    declared = _declared()
    undeclared = {}
    for name in sorted(_third_party_imports()):
        dists = {_canonical(d) for d in providers.get(name, [])}
        if not dists:
            pytest.fail(f"{name}: imported by src/zhibiao but installed by no distribution here")
        if not dists & declared:
            undeclared[name] = sorted(dists)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"

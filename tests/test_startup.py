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


def _script(path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_zhibiao_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_startup_benchmark_times_fresh_processes_and_renders_its_target():
    bench = _script(ROOT / "benchmarks" / "startup.py")
    timed = bench.time_command([sys.executable, "-c", "pass"], 3)
    assert len(timed["runs"]) == 3 and timed["min"] <= timed["median"] <= max(timed["runs"])
    with pytest.raises(SystemExit, match="exited 3"):
        bench.time_command([sys.executable, "-c", "raise SystemExit(3)"], 1)
    report = _script(ROOT / "training" / "report.py")
    row = {"what": "w", "runs": [1.0, 2.0, 4.0], "median": 2.0, "min": 1.0}
    result = {"command": "c", "machine": "m", "report": {"id": "x", "characters": 10}, "target_s": 3.0,
              "load_before": [0.1, 0, 0], "load_after": [0.2, 0, 0], "extract": row, "library": row,
              "torch_import": row, "library_heavy_imports": []}
    text = "\n".join(report.startup_lines(result))
    assert "| cold `zhibiao extract` of one report, median wall time | 2.00 s | < 3 s | yes |" in text
    result["extract"] = {**row, "median": 3.5}
    assert "| 3.50 s | < 3 s | **no** |" in "\n".join(report.startup_lines(result))

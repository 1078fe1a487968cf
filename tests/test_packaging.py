"""What an install carries: the version from one place (src/zhibiao/_version.py, read by
pyproject and stamped into a saved model folder), every package of src/zhibiao, the model
folder's files (its model card included), the spaCy entry point."""
from __future__ import annotations

import fnmatch
import json
import shutil
import sys
from pathlib import Path

import pytest

import zhibiao
from zhibiao import _version
from zhibiao.errors import ModelLoadError
from zhibiao.extract import default_model_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SHIPPED = (default_model_path() / "model.safetensors").exists()


def test_the_version_lives_in_one_place():
    assert zhibiao.__version__ == _version.__version__
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "zhibiao._version.__version__"}
    stated = [p for p in (ROOT / "src" / "zhibiao").rglob("*.py")
              if p.name != "_version.py" and "__version__ = " in p.read_text(encoding="utf-8")]
    assert stated == []
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and f"## [{zhibiao.__version__}] - " in changelog


def test_every_package_is_installed():
    """An explicit package list that misses one gives an install whose ``zhibiao`` command fails."""
    src = ROOT / "src"
    on_disk = {".".join(p.parent.relative_to(src).parts) for p in (src / "zhibiao").rglob("__init__.py")}
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert on_disk <= listed, f"not in pyproject's packages: {sorted(on_disk - listed)}"
    assert listed - on_disk == {"zhibiao_models"}


def test_every_file_of_the_model_folder_is_package_data():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["zhibiao_models"]
    folder = ROOT / "models" / "default"
    files = [p.relative_to(folder.parent).as_posix() for p in folder.rglob("*") if p.is_file()]
    assert "default/README.md" in files and "default/model.safetensors" in files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert missing == []


def test_the_spacy_factory_entry_point_names_the_component():
    target = PYPROJECT["project"]["entry-points"]["spacy_factories"]["zhibiao"]
    module, _, attr = target.partition(":")
    import importlib

    assert callable(getattr(importlib.import_module(module), attr))


@pytest.mark.skipif(not SHIPPED, reason="the shipped model folder is absent")
def test_a_saved_model_folder_records_the_library_version(tmp_path):
    from zhibiao.model.core import ZhibiaoModel
    from zhibiao.model.persistence import saved_version

    model = ZhibiaoModel.from_pretrained(default_model_path())
    out = model.save_pretrained(tmp_path / "m")
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["zhibiao_version"] == zhibiao.__version__ == saved_version(out)
    text = "大佛镇脱贫户776户1605人。"
    assert ZhibiaoModel.from_pretrained(out).predict_documents([text])[0].links == \
        model.predict_documents([text])[0].links

    unstamped = tmp_path / "old"
    shutil.copytree(out, unstamped)
    del config["zhibiao_version"]
    (unstamped / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert saved_version(unstamped) is None
    ZhibiaoModel.from_pretrained(unstamped)  # a folder from before the stamp still loads

    config.update(zhibiao_version="9.9.9", new_switch=True)
    (unstamped / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelLoadError, match=r"new_switch.*saved by zhibiao 9\.9\.9, this is zhibiao "):
        ZhibiaoModel.from_pretrained(unstamped)


def test_the_chinese_quick_start_gives_the_english_commands_and_ci_runs_them():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    zh = readme[readme.index("## 中文快速上手"):readme.index("## Quick start")]
    en = readme[readme.index("## Quick start"):]
    blocks = lambda text: re.findall(r"```bash\n(.*?)```", text, flags=re.S)  # noqa: E731
    assert blocks(zh)[:2] == blocks(en)[:2]
    assert "zhibiao render " in blocks(zh)[2] and "zhibiao table " in blocks(zh)[2]
    assert blocks(en)[1].strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")

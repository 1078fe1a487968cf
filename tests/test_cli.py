"""Every ``zhibiao`` subcommand end to end on tiny inputs (exit status and what it wrote), and the
command line's own rules: help on every argument, ``--label-map`` leaves the files alone, a
missing output folder is a clear error, format choices are exactly what io.convert supports, and a
single small file starts no worker pool."""
from __future__ import annotations

import argparse
import json
import multiprocessing.pool
from pathlib import Path

import pytest

from zhibiao.cli import build_parser, main
from zhibiao.io.convert import READ_FORMATS, WRITE_FORMATS, read_any, write_any
from zhibiao.io.jsonl import write_jsonl
from zhibiao.io.markup import parse_markup
from zhibiao.normalize import normalize
from zhibiao.records import RECORD_FIELDS

DOCS = {
    "d1": "开发[公益性岗位]{I:a}[132个]{Q:a},其中[光伏公岗]{I:b}[52个]{Q:b}。"
          "用好[到户产业资金]{I:c}[31.1万元]{Q:c},完成投资[20万元]{Q}。",
    "d2": "[监测对象]{I:a}[112户]{Q:a},其中已消除风险[16户]{Q:a}[63人]{Q:a}。"
          "2023年为[35名]{Q:b}学生申报春季[雨露计划]{I:b}。",
}
REPORT = "青石镇脱贫户776户1605人,监测户12户30人。發放外出務工補助３１．１万元。\n"

TINY_CONFIG = """\
data:
  train: [{gold}]
  dev_fraction: 0
  exclude_splits: []
model:
  hidden_size: 32
  num_layers: 1
  num_heads: 2
  intermediate_size: 64
  span_dim: 32
  link_hidden: 32
  lex_dim: 8
  max_len: 64
  dropout: 0.0
train:
  epochs: 1
  batch_size: 8
  warmup: 0.0
  threads: 1
"""


def gold_docs():
    return [parse_markup(markup, doc_id) for doc_id, markup in DOCS.items()]


@pytest.fixture(scope="session")
def gold(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gold") / "gold.jsonl"
    write_jsonl(gold_docs(), path)
    return path


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reports")
    (folder / "a.txt").write_text(REPORT, encoding="utf-8")
    (folder / "b.txt").write_text("全县农村居民人均可支配收入15632元,同比增长8.5%。\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def trained(tmp_path_factory, gold) -> tuple[Path, dict, int]:
    """One tiny model trained through ``zhibiao train`` (1 epoch over 2 documents), shared."""
    tmp = tmp_path_factory.mktemp("train")
    config = tmp / "tiny.yaml"
    config.write_text(TINY_CONFIG.format(gold=json.dumps(str(gold))), encoding="utf-8")
    out = tmp / "models" / "tiny"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["train", "--config", str(config), "--output", str(out), "--quiet"])
    return out, json.loads(buf.getvalue()), code


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- every subcommand ------------------------------------------------------------------------

def test_train_writes_a_model_folder(trained):
    out, printed, code = trained
    assert code == 0
    assert Path(printed["output"]) == out
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()


def test_evaluate_scores_each_model_and_writes_the_metrics(capsys, tmp_path, trained, gold):
    model = str(trained[0])
    metrics = tmp_path / "metrics.json"
    code, out, _ = run(capsys, ["evaluate", str(gold), "--model", model, "rules", "--output", str(metrics)])
    assert code == 0
    results = json.loads(metrics.read_text(encoding="utf-8"))
    assert set(results) == {model, "rules"}
    assert 0.0 < results["rules"]["quantity_f1"] <= 1.0  # the grammar finds these quantities
    assert all(0.0 <= results[m]["link_relaxed_f1"] <= 1.0 for m in results)
    assert out.splitlines()[0].startswith("metric") and "quantity_f1" in out


def test_evaluate_with_no_document_in_the_split_is_an_error(capsys, gold):
    code, _, err = run(capsys, ["evaluate", str(gold), "--model", "rules", "--split", "nowhere"])
    assert code == 2 and "no documents to evaluate" in err


def test_extract_with_the_trained_model(capsys, tmp_path, trained, reports):
    out = tmp_path / "records.jsonl"
    code, _, err = run(capsys, ["extract", str(reports), "-o", str(out), "--model", str(trained[0]),
                                "--no-progress", "--workers", "1"])
    assert code == 0 and "2 documents" in err
    texts = {str(p): p.read_text(encoding="utf-8") for p in reports.iterdir()}
    for r in read_lines(out):
        assert texts[r["doc_id"]][r["start"]:r["end"]] == r["quantity"]
    assert (tmp_path / "records.jsonl.errors.jsonl").read_text(encoding="utf-8") == ""


def test_extract_reports_failures_with_exit_1(capsys, tmp_path, reports):
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    out = tmp_path / "r.csv"
    code, _, err = run(capsys, ["extract", str(reports / "a.txt"), str(tmp_path / "empty.txt"), "-o", str(out),
                                "--model", "rules", "--no-progress"])
    assert code == 1 and "1 document(s) failed" in err
    lines = out.read_text(encoding="utf-8-sig").splitlines()  # CSV has a BOM (for Excel)
    assert lines[0] == ",".join(RECORD_FIELDS) and len(lines) > 1
    errors = read_lines(tmp_path / "r.csv.errors.jsonl")
    assert [(Path(e["doc_id"]).name, e["error_type"]) for e in errors] == [("empty.txt", "EmptyDocumentError")]


def test_prelabel_writes_label_studio_tasks_with_predictions(capsys, tmp_path, reports):
    out = tmp_path / "tasks.json"
    code, _, err = run(capsys, ["prelabel", str(reports), "-o", str(out), "--model", "rules"])
    assert code == 0 and "2 task(s)" in err
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert [t["data"]["text"] for t in tasks] == [REPORT, (reports / "b.txt").read_text(encoding="utf-8")]
    assert all(t["predictions"] and t["predictions"][0]["result"] for t in tasks)


def test_prelabel_names_an_unreadable_input_and_exits_1(capsys, tmp_path, reports):
    code, _, err = run(capsys, ["prelabel", str(reports / "a.txt"), str(tmp_path / "missing.txt"),
                                "-o", str(tmp_path / "t.json"), "--model", "rules"])
    assert code == 1 and "missing.txt" in err
    assert len(json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))) == 1


def test_normalize_prints_the_text_the_model_sees(capsys, tmp_path, reports):
    out = tmp_path / "n.jsonl"
    code, _, _ = run(capsys, ["normalize", str(reports / "a.txt"), "-o", str(out)])
    assert code == 0
    [row] = read_lines(out)
    assert row == {"doc_id": str(reports / "a.txt"), "encoding": "utf-8", "text": normalize(REPORT).text}
    assert "31.1万元" in row["text"] and "发放外出务工补助" in row["text"]  # full-width folded, t2s
    code, printed, _ = run(capsys, ["normalize", str(reports / "b.txt")])  # no -o: standard output
    assert code == 0 and json.loads(printed)["text"].startswith("全县农村居民")


def test_validate_passes_gold_and_fails_a_broken_file(capsys, tmp_path, gold):
    code, _, err = run(capsys, ["validate", str(gold)])
    assert code == 0 and err.startswith("0 problem(s)")
    row = json.loads(gold.read_text(encoding="utf-8").splitlines()[0])
    row["entities"][0]["end_offset"] = len(row["text"]) + 5  # past the end of the text
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, ["validate", str(bad)])
    assert code == 1 and out.strip()


def test_stats_counts_the_annotations(capsys, gold):
    code, out, _ = run(capsys, ["stats", str(gold), "--json"])
    assert code == 0
    counts = json.loads(out)
    docs = gold_docs()
    assert counts["documents"] == 2
    assert counts["quantities"] == sum(e.label == "QUANTITY" for d in docs for e in d.entities)
    assert counts["links"] == sum(len(d.relations) for d in docs)
    code, table, _ = run(capsys, ["stats", str(gold)])
    assert code == 0 and table.strip()


def test_convert_to_label_studio_and_back_keeps_the_annotations(capsys, tmp_path, gold):
    ls, back = tmp_path / "ls.json", tmp_path / "back.jsonl"
    assert run(capsys, ["convert", str(gold), str(ls)])[0] == 0
    assert all(t["annotations"] for t in json.loads(ls.read_text(encoding="utf-8")))  # gold as annotations
    assert run(capsys, ["convert", str(ls), str(back)])[0] == 0
    assert _spans(read_any(back)) == _spans(gold_docs())


# ---- the command line's own rules --------------------------------------------------------------

def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_argument_of_every_command_has_help():
    parser = build_parser()
    missing = [f"zhibiao {a.dest}" for a in parser._actions if not a.help]
    commands = _subparsers(parser)
    assert {"extract", "train", "evaluate", "validate", "stats", "convert", "prelabel", "normalize", "table",
            "render"} <= set(commands)
    for name, sub in commands.items():
        missing += [f"zhibiao {name} {'/'.join(a.option_strings) or a.dest}" for a in sub._actions
                    if not a.help or a.help == argparse.SUPPRESS]
    assert not missing, f"arguments without help text: {missing}"


def _choices(command: str, dest: str) -> tuple:
    sub = _subparsers(build_parser())[command]
    return tuple(next(a for a in sub._actions if a.dest == dest).choices)


def test_format_choices_are_what_io_convert_supports():
    assert _choices("convert", "from_format") == READ_FORMATS
    assert _choices("convert", "to_format") == WRITE_FORMATS
    for command in ("validate", "stats", "evaluate"):
        assert _choices(command, "format") == READ_FORMATS


def _spans(docs) -> list:
    return [(d.text, sorted((e.start, e.end, e.label) for e in d.entities), len(d.relations)) for d in docs]


WRITE_SUFFIX = {"jsonl": ".jsonl", "doccano": ".jsonl", "labelstudio": ".json", "labelstudio-annotations": ".json",
                "docbin": ".spacy", "markup": "", "auto": ".jsonl"}
READ_BACK = {"labelstudio": "labelstudio", "labelstudio-annotations": "labelstudio", "auto": "jsonl"}


@pytest.mark.parametrize("fmt", WRITE_FORMATS)
def test_every_advertised_output_format_converts(capsys, tmp_path, gold, fmt):
    out = tmp_path / f"out{WRITE_SUFFIX[fmt]}"
    code, _, err = run(capsys, ["convert", str(gold), str(out), "--to", fmt])
    assert code == 0, err
    assert _spans(read_any(out, READ_BACK.get(fmt, fmt))) == _spans(gold_docs())


@pytest.mark.parametrize("fmt", READ_FORMATS)
def test_every_advertised_input_format_is_read(capsys, tmp_path, fmt):
    src = tmp_path / f"in{WRITE_SUFFIX[fmt]}"
    write_any(gold_docs(), src, {"labelstudio": "labelstudio-annotations", "auto": "jsonl"}.get(fmt, fmt))
    code, out, err = run(capsys, ["stats", str(src), "--format", fmt, "--json"])
    assert code == 0, err
    assert json.loads(out)["documents"] == 2
    back = tmp_path / "back.jsonl"
    assert run(capsys, ["convert", str(src), str(back), "--from", fmt])[0] == 0
    assert _spans(read_any(back)) == _spans(gold_docs())


@pytest.fixture
def tool_labels(tmp_path) -> Path:
    """Doccano JSONL whose labels are the tool's own (数量, 指标)."""
    path = tmp_path / "tool.jsonl"
    write_any(gold_docs(), path, "doccano")
    text = path.read_text(encoding="utf-8").replace('"QUANTITY"', '"数量"').replace('"INDICATOR"', '"指标"')
    path.write_text(text, encoding="utf-8")
    return path


def test_label_map_does_not_swallow_the_files(capsys, tool_labels):
    expected = sum(e.label == "QUANTITY" for d in gold_docs() for e in d.entities)
    for argv in (["--label-map", "数量=QUANTITY,指标=INDICATOR", str(tool_labels)],
                 ["--label-map", "数量=QUANTITY", "--label-map", "指标=INDICATOR", str(tool_labels)],
                 [str(tool_labels), "--label-map", "数量=QUANTITY,指标=INDICATOR"]):
        code, out, err = run(capsys, ["stats", "--json", "--format", "doccano", *argv])
        assert code == 0, err
        assert json.loads(out)["quantities"] == expected
    code, _, err = run(capsys, ["stats", "--format", "doccano", str(tool_labels)])  # no map: the labels are unknown
    assert code == 2 and "unknown label" in err


def test_a_malformed_label_map_is_a_usage_error(capsys, tool_labels):
    with pytest.raises(SystemExit) as exc:
        main(["stats", "--label-map", "数量", str(tool_labels)])
    assert exc.value.code == 2 and "THEIRS=OURS" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["extract", "{reports}", "-o", "{missing}/r.jsonl", "--model", "rules", "--no-progress"],
    ["extract", "{reports}", "-o", "{tmp}/r.jsonl", "--errors", "{missing}/e.jsonl", "--model", "rules"],
    ["normalize", "{reports}", "-o", "{missing}/n.jsonl"],
    ["prelabel", "{reports}", "-o", "{missing}/t.json", "--model", "rules"],
    ["evaluate", "{gold}", "--model", "rules", "--output", "{missing}/m.json"],
])
def test_a_missing_output_folder_is_a_clear_usage_error(capsys, tmp_path, reports, gold, argv):
    missing = tmp_path / "no" / "such"
    argv = [a.format(reports=reports, missing=missing, tmp=tmp_path, gold=gold) for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"output folder {missing} does not exist" in err and "Traceback" not in err
    assert not missing.exists()


def test_convert_into_a_missing_folder_is_an_error_naming_it(capsys, tmp_path, gold):
    missing = tmp_path / "no" / "such"
    code, _, err = run(capsys, ["convert", str(gold), str(missing / "x.json")])
    assert code == 2 and f"output folder {missing} does not exist" in err


class PoolStarted(Exception):
    pass


@pytest.fixture
def no_pool(monkeypatch):
    """Any multiprocessing pool raises :class:`PoolStarted`; ``auto`` sees 8 CPUs."""
    def refuse(*args, **kwargs):
        raise PoolStarted

    monkeypatch.setattr(multiprocessing.pool, "Pool", refuse)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)), raising=False)


def test_no_progress_on_one_small_file_starts_no_worker_pool(capsys, tmp_path, reports, no_pool):
    out = tmp_path / "r.jsonl"
    for workers in ("auto", "4"):
        code, _, err = run(capsys, ["extract", str(reports / "a.txt"), "-o", str(out), "--model", "rules",
                                    "--no-progress", "--workers", workers])
        assert code == 0, err
        assert out.read_text(encoding="utf-8").count("\n") > 0


def test_a_second_batch_does_start_the_pool(tmp_path, reports, no_pool):
    with pytest.raises(PoolStarted):
        main(["extract", str(reports), "-o", str(tmp_path / "r.jsonl"), "--model", "rules", "--no-progress",
              "--batch-size", "1", "--workers", "auto"])

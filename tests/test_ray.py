"""The Ray engine gives the records of the single-process run, loses no document, and writes the
same files as ``zhibiao extract --engine local``. Local Ray only (2 CPUs); object storage is
exercised through ``file://`` URIs, the same ``pyarrow.fs`` path an ``s3://`` URI takes."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
import ray.data  # noqa: E402

from zhibiao.cli import main  # noqa: E402
from zhibiao.extract import load  # noqa: E402
from zhibiao.ingest import read_documents  # noqa: E402
from zhibiao.integrations.ray import ZhibiaoPredictor, read_documents_dataset, run_ray_extract  # noqa: E402
from zhibiao.records import RECORD_FIELDS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "default"
MODELS = ["rules"] + ([str(DEFAULT_MODEL)] if (DEFAULT_MODEL / "model.safetensors").exists() else [])

REPORTS = {
    "a.txt": "青石镇脱贫户776户1605人,监测户12户30人,其中新增3户。发放外出务工补助31.1万元。\n",
    "b.txt": "全县农村居民人均可支配收入15632元,同比增长8.5%。新建高标准农田3.2万亩。\n",
    "c.txt": "今年天气晴朗。\n",  # no record
}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    bars = ctx.enable_progress_bars
    ctx.enable_progress_bars = False
    # the failing predictor below lives in this test module, which Ray workers cannot import
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ctx.enable_progress_bars = bars
    if started:
        ray.shutdown()


def write_reports(folder: Path, extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**REPORTS, **(extra or {})}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def to_table(ds):
    import pyarrow as pa

    return pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow")))


def pool(n: int):
    return ray.data.ActorPoolStrategy(size=n)


def sorted_rows(table) -> list[dict]:
    return table.sort_by([("doc_index", "ascending"), ("start", "ascending"), ("end", "ascending")]).to_pylist()


def local_records(model: str, inputs) -> list[dict]:
    docs = read_documents(inputs)
    return [r.to_dict() for recs in load(model).pipe([(d.text, d.doc_id) for d in docs]) for r in recs]


@pytest.mark.parametrize("model", MODELS)
def test_predictor_equals_single_process_on_seeds(model, seed_dir):
    expected = local_records(model, seed_dir)
    assert expected
    ds = read_documents_dataset(seed_dir, chunk_size=2)
    assert ds.count() == 5
    out = to_table(ds.map_batches(ZhibiaoPredictor, fn_constructor_kwargs={"model": model}, batch_size=2,
                                batch_format="pyarrow", compute=pool(2)))
    rows = sorted_rows(out)
    assert all(r["error"] is None for r in rows)
    got = [{f: r[f] for f in RECORD_FIELDS} for r in rows]
    # actors group documents differently: a score may move in its last digit (float rounding)
    assert [{**r, "score": None, "quantity_score": None} for r in got] == \
        [{**e, "score": None, "quantity_score": None} for e in expected]
    for r, e in zip(got, expected):  # the rule baseline has no scores (None); the model's agree to 1e-5
        for k in ("score", "quantity_score"):
            assert (r[k] is None) == (e[k] is None) and (e[k] is None or abs(r[k] - e[k]) <= 1e-5)
    assert list(out.column_names[:len(RECORD_FIELDS)]) == list(RECORD_FIELDS)


class FailingPredictor(ZhibiaoPredictor):
    """Raises on any batch holding a text with BOOM, so the batch is retried document by document."""

    def __init__(self, **kw):
        super().__init__(**kw)
        predict = self.extractor.predict

        def failing(texts, doc_ids=None):
            if any("BOOM" in t for t in texts):
                raise RuntimeError("boom")
            return predict(texts, doc_ids)

        self.extractor.predict = failing


def test_failing_document_gives_an_error_row_and_the_rest_come_through():
    items = [{"doc_id": name, "text": text} for name, text in REPORTS.items()]
    items.insert(1, {"doc_id": "bad", "text": "BOOM 脱贫户5户12人。"})
    ds = ray.data.from_items(items)
    out = to_table(ds.map_batches(FailingPredictor, fn_constructor_kwargs={"model": "rules"}, batch_size=4,
                                batch_format="pandas", compute=pool(1)))
    rows = out.to_pylist()
    bad = [r for r in rows if r["doc_id"] == "bad"]
    assert len(bad) == 1 and bad[0]["error"] == "RuntimeError: boom"
    assert all(bad[0][f] is None for f in RECORD_FIELDS if f != "doc_id")
    assert "doc_index" not in out.column_names
    got = [{f: r[f] for f in RECORD_FIELDS} for r in rows if r["error"] is None]
    ex = load("rules")
    expected = [r.to_dict() for name, text in REPORTS.items() for r in ex(text, doc_id=name)]
    assert sorted(got, key=lambda r: (r["doc_id"], r["start"])) == sorted(expected, key=lambda r: (r["doc_id"], r["start"]))
    assert {r["doc_id"] for r in got} == {"a.txt", "b.txt"}  # c.txt has no record: zero rows


def test_ingest_errors_and_empty_documents_are_rows(tmp_path):
    src = write_reports(tmp_path / "in", {"empty.txt": "  \n"})
    ds = read_documents_dataset(src)
    table = to_table(ds).to_pylist()
    assert [r["doc_id"].rsplit("/", 1)[-1] for r in table] == ["a.txt", "b.txt", "c.txt", "empty.txt"]
    assert [r["doc_index"] for r in table] == [0, 1, 2, 3]
    assert table[3]["text"] is None and table[3]["error"].startswith("EmptyDocumentError: ")
    out = to_table(ds.map_batches(ZhibiaoPredictor, fn_constructor_kwargs={"model": "rules", "keep_empty": True},
                                batch_size=8, batch_format="pyarrow", compute=pool(1)))
    by_doc: dict[str, list[dict]] = {}
    for r in sorted_rows(out):
        by_doc.setdefault(r["doc_id"].rsplit("/", 1)[-1], []).append(r)
    assert by_doc["empty.txt"][0]["error"].startswith("EmptyDocumentError: ")
    assert [(r["start"], r["error"]) for r in by_doc["c.txt"]] == [(None, None)]  # keep_empty row
    assert all(r["start"] is not None for r in by_doc["a.txt"] + by_doc["b.txt"])


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_cli_ray_engine_writes_what_the_local_engine_writes(tmp_path, suffix):
    src = write_reports(tmp_path / "in", {"empty.txt": "\n"})
    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}{suffix}"
        code = main(["extract", str(src), "-o", str(out), "--model", "rules", "--engine", engine,
                     "--no-progress", "--batch-size", "2"])
        assert code == 1  # empty.txt failed, in both engines
        outs[engine] = out
    if suffix == ".jsonl":
        local = outs["local"].read_text(encoding="utf-8")
        assert local and outs["ray"].read_text(encoding="utf-8") == local
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(outs["ray"]).equals(pq.read_table(outs["local"]))
        assert pq.read_table(outs["ray"]).num_rows > 0
    errs = {e: Path(f"{o}.errors.jsonl").read_text(encoding="utf-8") for e, o in outs.items()}
    assert errs["ray"] == errs["local"] and json.loads(errs["ray"])["error_type"] == "EmptyDocumentError"


def test_uri_input_and_output_folder(tmp_path):
    """URIs go through pyarrow.fs (file:// here, s3:// on a cluster): input copied, output a folder."""
    import pyarrow.parquet as pq

    src = write_reports(tmp_path / "in")
    out_dir = tmp_path / "out"
    summary = run_ray_extract([src.as_uri()], out_dir.as_uri() + "/", model="rules", progress=False)
    assert summary.failures == 0 and summary.documents == 3
    rows = pq.read_table(out_dir).to_pylist()
    expected = local_records("rules", src)
    assert [r["doc_id"] for r in rows] == [e["doc_id"].replace(str(src), src.as_uri()) for e in expected]
    assert [{**r, "doc_id": None} for r in rows] == [{**e, "doc_id": None} for e in expected]
    assert (tmp_path / "out.errors.jsonl").read_text(encoding="utf-8") == ""


def test_resume_is_refused(tmp_path):
    src = write_reports(tmp_path / "in")
    code = main(["extract", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", "rules", "--engine", "ray",
                 "--resume", "--no-progress"])
    assert code == 2


def test_an_xlsx_output_uri_is_refused_before_any_work(tmp_path):
    from zhibiao.errors import ZhibiaoError

    src = tmp_path / "a.txt"
    src.write_text("全镇共有脱贫户776户1605人。", encoding="utf-8")
    with pytest.raises(ZhibiaoError, match=r"\.xlsx output is one local file"):
        run_ray_extract([str(src)], (tmp_path / "out.xlsx").as_uri(), model="rules", progress=False)

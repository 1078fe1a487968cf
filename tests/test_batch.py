"""Batch extraction: nothing lost, resumable after SIGKILL, deterministic, every output format."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from zhibiao.batch import extract_documents
from zhibiao.cli import main
from zhibiao.extract import load
from zhibiao.ingest import iter_documents

SENTENCE = "{place}镇脱贫户{a}户{b}人,监测户{c}户{d}人,其中新增{e}户。发放外出务工补助{f}万元。\n"


def make_reports(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        text = "".join(SENTENCE.format(place=f"青石{k}", a=100 + k, b=300 + k, c=10 + k % 7, d=20 + k % 9, e=k % 5 + 1,
                                       f=f"{k % 13}.{k % 10}") for _ in range(1 + k % 3))
        (folder / f"r{k:04d}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def rules():
    return load("rules")


def test_extract_jsonl_records_and_offsets(tmp_path, rules):
    src = make_reports(tmp_path / "in", 5)
    out = tmp_path / "out.jsonl"
    s = extract_documents(rules, iter_documents([src]), out, progress=False)
    assert s.failures == 0 and s.documents == 5
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert s.records == len(rows) > 0
    texts = {str(p): p.read_text(encoding="utf-8") for p in src.iterdir()}
    for r in rows:
        t = texts[r["doc_id"]]
        assert t[r["start"]:r["end"]] == r["quantity"]
        assert t[r["indicator_start"]:r["indicator_end"]] == r["indicator"]


def test_failures_go_to_errors_file_and_run_goes_on(tmp_path, rules):
    src = make_reports(tmp_path / "in", 3)
    (src / "empty.txt").write_text("   \n", encoding="utf-8")
    (src / "binary.txt").write_bytes(b"\x00\x01\x02PK\x00" * 50)
    with zipfile.ZipFile(src / "bundle.zip", "w") as z:
        z.writestr("ok.txt", "脱贫户12户30人。")
        z.writestr("../evil.txt", "脱贫户1户。")
    out = tmp_path / "out.jsonl"
    code = main(["extract", str(src), "-o", str(out), "--model", "rules", "--no-progress"])
    assert code == 1  # the exit status says something failed
    errors = [json.loads(l) for l in (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()]
    failed = {Path(e["doc_id"]).name for e in errors}
    assert {"empty.txt", "binary.txt"} <= failed
    assert any("evil" in e["doc_id"] for e in errors)
    assert all(e["error_type"] and e["message"] for e in errors)
    done = {json.loads(l)["doc_id"] for l in (tmp_path / "out.jsonl.progress.jsonl").read_text().splitlines()}
    assert any(d.endswith("bundle.zip!ok.txt") for d in done)
    assert len(done) + len(errors) == 3 + 2 + 2  # every document accounted for


def test_deterministic_byte_identical(tmp_path, rules):
    src = make_reports(tmp_path / "in", 12)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    extract_documents(rules, iter_documents([src]), a, batch_size=5, progress=False)
    extract_documents(rules, iter_documents([src]), b, batch_size=3, progress=False)
    assert a.read_bytes() == b.read_bytes()


def test_csv_and_parquet_outputs(tmp_path, rules):
    import pyarrow.parquet as pq

    src = make_reports(tmp_path / "in", 4)
    jl, csv_out, pq_out = tmp_path / "r.jsonl", tmp_path / "r.csv", tmp_path / "r.parquet"
    for out in (jl, csv_out, pq_out):
        extract_documents(rules, iter_documents([src]), out, progress=False)
    rows = [json.loads(l) for l in jl.read_text(encoding="utf-8").splitlines()]
    table = pq.read_table(pq_out).to_pylist()
    assert table == rows
    import csv

    with csv_out.open(encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert [r["quantity"] for r in csv_rows] == [r["quantity"] for r in rows]
    assert not (tmp_path / "r.csv.partial.jsonl").exists()


_SLOW_RUN = textwrap.dedent("""
    import sys, time
    from zhibiao.batch import extract_documents
    from zhibiao.extract import load
    from zhibiao.ingest import iter_documents

    class Slow:
        def __init__(self, inner): self.inner = inner
        def predict(self, texts, ids=None):
            time.sleep(0.05 * len(texts))
            return self.inner.predict(texts, ids)
        def records(self, p, all_quantities=False): return self.inner.records(p, all_quantities)

    if __name__ == "__main__":
        extract_documents(Slow(load("rules")), iter_documents([sys.argv[1]]), sys.argv[2], resume=True,
                          batch_size=2, progress=False, workers=int(sys.argv[3]))
""")


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_then_resume_gives_exactly_the_uninterrupted_records(tmp_path, rules, workers):
    src = make_reports(tmp_path / "in", 80)
    full = tmp_path / "full.jsonl"
    extract_documents(rules, iter_documents([src]), full, progress=False)
    out = tmp_path / "killed.jsonl"
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_RUN, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(src), str(out), str(workers)])
    progress = tmp_path / "killed.jsonl.progress.jsonl"
    deadline = time.time() + 90
    while time.time() < deadline:
        if progress.exists() and len(progress.read_text().splitlines()) >= 10:
            break
        time.sleep(0.02)
    kids = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if workers > 1:  # worker processes do not outlive a killed parent
        assert kids
        deadline = time.time() + 20
        while any(_alive(k) for k in kids) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(_alive(k) for k in kids)
    logged = len(progress.read_text().splitlines())
    assert 10 <= logged < 80, "the run must have been killed part-way"
    # a torn trailing write must not survive the resume
    with out.open("ab") as fh:
        fh.write(b'{"indicator": "half a reco')
    s = extract_documents(rules, iter_documents([src]), out, resume=True, progress=False)
    assert s.skipped == logged
    assert out.read_bytes() == full.read_bytes()


class Recording:
    """Wraps an extractor and records the texts of every predict call."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def predict(self, texts, ids=None):
        self.calls.append(list(ids))
        return self.inner.predict(texts, ids)

    def records(self, p, all_quantities=False):
        return self.inner.records(p, all_quantities)


def _cut_after(out: Path, keep: int) -> None:
    """Leave OUT as a kill would after ``keep`` documents were written."""
    log = out.with_name(out.name + ".progress.jsonl")
    entries = log.read_text(encoding="utf-8").splitlines()[:keep]
    log.write_text("".join(e + "\n" for e in entries), encoding="utf-8")


def test_resume_predicts_a_partly_done_batch_whole(tmp_path, rules):
    src = make_reports(tmp_path / "in", 10)
    out = tmp_path / "o.jsonl"
    extract_documents(rules, iter_documents([src]), out, batch_size=4, progress=False)
    full = out.read_bytes()
    _cut_after(out, 5)  # batch 2 (documents 5-8) killed after its first document
    rec = Recording(rules)
    s = extract_documents(rec, iter_documents([src]), out, resume=True, batch_size=4, progress=False)
    assert s.skipped == 5
    assert [len(c) for c in rec.calls] == [4, 2]  # batch 1 skipped, batch 2 whole, batch 3
    assert out.read_bytes() == full


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "models/default/model.safetensors").exists(),
                    reason="no shipped model")
def test_resume_with_the_model_gives_identical_bytes(tmp_path):
    nlp = load()
    src = make_reports(tmp_path / "in", 9)
    out = tmp_path / "o.jsonl"
    extract_documents(nlp, iter_documents([src]), out, batch_size=4, progress=False)
    full = out.read_bytes()
    for keep in (1, 6):
        _cut_after(out, keep)
        extract_documents(nlp, iter_documents([src]), out, resume=True, batch_size=4, progress=False)
        assert out.read_bytes() == full


def test_resume_of_a_finished_run_changes_nothing(tmp_path, rules):
    src = make_reports(tmp_path / "in", 6)
    out = tmp_path / "o.jsonl"
    extract_documents(rules, iter_documents([src]), out, progress=False)
    before = out.read_bytes()
    s = extract_documents(rules, iter_documents([src]), out, resume=True, progress=False)
    assert s.skipped == 6 and s.records == 0
    assert out.read_bytes() == before


def test_bad_output_extension(tmp_path):
    assert main(["extract", str(tmp_path), "-o", str(tmp_path / "x.xls"), "--model", "rules", "--no-progress"]) == 2


class Exploding(Recording):
    """Fails on any text that holds BOOM (the worker must report it, not die)."""

    def predict(self, texts, ids=None):
        if any("BOOM" in t for t in texts):
            raise ValueError("BOOM in the text")
        return self.inner.predict(texts, ids)


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "models/default/model.safetensors").exists(),
                    reason="no shipped model")
def test_worker_processes_give_the_bytes_of_one_process(tmp_path):
    """--workers 2: same records file, same errors, resumable the same way."""
    src = make_reports(tmp_path / "in", 9)
    (src / "empty.txt").write_text("  ", encoding="utf-8")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    common = ["--no-progress", "--batch-size", "3"]
    assert main(["extract", str(src), "-o", str(a), "--workers", "1"] + common) == 1  # empty.txt fails
    assert main(["extract", str(src), "-o", str(b), "--workers", "2"] + common) == 1
    assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 0
    errors = tmp_path / "b.jsonl.errors.jsonl"
    assert (tmp_path / "a.jsonl.errors.jsonl").read_bytes() == errors.read_bytes()
    _cut_after(b, 4)
    assert main(["extract", str(src), "-o", str(b), "--workers", "2", "--resume"] + common) == 1
    assert a.read_bytes() == b.read_bytes()


def test_a_document_failing_in_a_worker_goes_to_the_errors_file(tmp_path, rules):
    src = make_reports(tmp_path / "in", 6)
    (src / "r0002.txt").write_text("脱贫户12户。BOOM", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    s = extract_documents(Exploding(rules), iter_documents([src]), out, batch_size=2, progress=False, workers=2)
    assert s.failures == 1 and s.documents == 6
    err = [json.loads(l) for l in (tmp_path / "o.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(Path(e["doc_id"]).name, e["error_type"]) for e in err] == [("r0002.txt", "ValueError")]
    done = [json.loads(l)["doc_id"] for l in (tmp_path / "o.jsonl.progress.jsonl").read_text().splitlines()]
    assert len(done) == 5


def test_workers_must_be_positive_or_auto():
    from zhibiao.batch import resolve_workers
    from zhibiao.errors import ZhibiaoError

    assert 1 <= resolve_workers("auto") <= 8 and resolve_workers("3") == 3
    assert resolve_workers("auto", n_batches=1) == 1  # one batch: no worker processes
    with pytest.raises(ZhibiaoError, match="--workers"):
        resolve_workers(0)


def test_workers_load_the_model_themselves_and_a_bad_model_stops_the_run(tmp_path, rules):
    import functools

    from zhibiao.errors import ZhibiaoError

    src = make_reports(tmp_path / "in", 4)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    extract_documents(rules, iter_documents([src]), a, batch_size=2, progress=False)
    extract_documents(functools.partial(load, "rules"), iter_documents([src]), b, batch_size=2, progress=False,
                      workers=2)
    assert a.read_bytes() == b.read_bytes()
    bad = functools.partial(load, str(tmp_path / "no-such-model"))
    with pytest.raises(ZhibiaoError, match="could not load the model.*no-such-model"):
        extract_documents(bad, iter_documents([src]), tmp_path / "c.jsonl", batch_size=2, progress=False, workers=2)

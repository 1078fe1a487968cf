"""Batch extraction that loses nothing (issue 16, cases 1-4 and 8): outputs that would destroy an
input are refused, any file name / member name / id is escaped and reported, a resume checks what
it resumes, every skip is reported, a zip of zeros is not inflated, and each exit status means
one thing (0 done, 1 some documents failed, 2 usage error, 3 the output could not be written)."""
from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhibiao.batch import extract_documents
from zhibiao.cli import build_parser, main
from zhibiao.extract import load
from zhibiao.ingest import iter_documents
from zhibiao.io.escape import printable

REPORT = "青石镇脱贫户776户1605人,监测户12户30人。\n"
RULES = ["--model", "rules", "--no-progress", "--workers", "1"]


@pytest.fixture(scope="module")
def rules():
    return load("rules")


def extract(*args: object) -> int:
    return main(["extract", *map(str, args), *RULES])


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def folder_of_reports(root: Path, n: int = 3) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        (root / f"r{k}.txt").write_text(REPORT.replace("776", str(100 + k)), encoding="utf-8")
    return root


# ---- case 1 and 2: outputs that are inputs ---------------------------------------------------

def test_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, capsys):
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": REPORT}, ensure_ascii=False) + "\n", encoding="utf-8")
    before = docs.read_bytes()
    assert extract(docs, "-o", docs) == 2
    assert "is the input" in capsys.readouterr().err
    assert docs.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs.jsonl"]  # nothing written


def test_errors_file_that_is_an_input_or_the_output_is_refused(tmp_path, capsys):
    src = folder_of_reports(tmp_path / "in")
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"text": REPORT}, ensure_ascii=False) + "\n", encoding="utf-8")
    before = other.read_bytes()
    assert extract(src, other, "-o", tmp_path / "o.jsonl", "--errors", other) == 2
    assert other.read_bytes() == before
    assert extract(src, "-o", tmp_path / "x.jsonl", "--errors", tmp_path / "x.jsonl") == 2
    assert "same file as the output" in capsys.readouterr().err
    assert extract(src, "-o", tmp_path / "y.jsonl", "--errors", tmp_path / "y.jsonl.progress.jsonl") == 2
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "y.jsonl").exists()


def test_output_inside_an_input_folder_is_refused(tmp_path, capsys):
    src = folder_of_reports(tmp_path / "dir")
    listing = sorted(os.listdir(src))
    for out in (src / "out.jsonl", src / "sub" / ".." / "out.csv"):
        (src / "sub").mkdir(exist_ok=True)
        assert extract(src, "-o", out) == 2
        assert "inside the input folder" in capsys.readouterr().err
    (tmp_path / "link").symlink_to(src)  # through a symlink, or the errors file alone
    assert extract(src, "-o", tmp_path / "link" / "out.jsonl") == 2
    assert extract(src, "-o", tmp_path / "out.jsonl", "--errors", src / "errors.jsonl") == 2
    assert sorted(os.listdir(src)) == listing + ["sub"]
    assert not (tmp_path / "out.jsonl").exists()


def test_library_checks_the_inputs_it_is_given(tmp_path, rules):
    from zhibiao.errors import ZhibiaoError

    src = folder_of_reports(tmp_path / "dir")
    with pytest.raises(ZhibiaoError, match="inside the input folder"):
        extract_documents(rules, iter_documents(src), src / "o.jsonl", progress=False, inputs=[src])


# ---- case 3: any file name, member name and id -----------------------------------------------

def test_non_utf8_file_name_is_escaped_reported_and_the_run_goes_on(tmp_path):
    src = folder_of_reports(tmp_path / "in", 2)
    with open(os.path.join(os.fsencode(src), b"x\xff.txt"), "wb") as fh:
        fh.write(REPORT.encode("utf-8"))
    (src / "z.txt").write_text(REPORT, encoding="utf-8")  # sorts after the bad name: still read
    out = tmp_path / "o.jsonl"
    assert extract(src, "-o", out) == 0  # escaped, not failed
    ids = {r["doc_id"] for r in lines(out)}
    assert f"{src}/x\\xff.txt" in ids and f"{src}/z.txt" in ids
    errors = lines(tmp_path / "o.jsonl.errors.jsonl")
    assert [(e["doc_id"], e["status"]) for e in errors] == [(f"{src}/x\\xff.txt", "escaped")]


def test_tar_member_name_no_codec_decodes_is_escaped(tmp_path):
    t = tmp_path / "a.tar"
    with tarfile.open(t, "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as tf:
        for name in ("\udcff\udcfe\udcff.txt", "ok.txt"):
            data = REPORT.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    out = tmp_path / "o.jsonl"
    assert extract(t, "-o", out) == 0
    ids = {r["doc_id"] for r in lines(out)}
    assert ids == {f"{t}!\\xff\\xfe\\xff.txt", f"{t}!ok.txt"}
    assert [e["status"] for e in lines(tmp_path / "o.jsonl.errors.jsonl")] == ["escaped"]


def test_jsonl_id_with_a_lone_surrogate_and_a_text_with_one(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text('{"id": "a\\ud800", "text": "脱贫户5户。"}\n'
                   '{"id": "b", "text": "脱贫户7户 \\udcff。"}\n'
                   '{"id": "c", "text": "脱贫户9户。"}\n', encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert extract(src, "-o", out) == 1  # "b" fails: its records cannot be written as UTF-8
    assert {r["doc_id"] for r in lines(out)} == {"a\\ud800", "c"}
    errors = {e["doc_id"]: e for e in lines(tmp_path / "o.jsonl.errors.jsonl")}
    assert errors["a\\ud800"]["status"] == "escaped"
    assert errors["b"]["status"] == "failed" and errors["b"]["error_type"] == "UnicodeEncodeError"
    # resumable: the escaped id is in the progress log, and a resume gives the same bytes
    before = out.read_bytes()
    assert extract(src, "-o", out, "--resume") == 1
    assert out.read_bytes() == before


class _Record:
    def __init__(self, doc_id: str, text: str):
        self.doc_id, self.text = doc_id, text

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "quantity": self.text}


class SurrogateRecords:
    """Predicts nothing; its records repeat the text, which may hold a lone surrogate."""

    def predict(self, texts, ids=None):
        return list(zip(ids, texts))

    def records(self, pred, all_quantities=False):
        return [_Record(*pred)]


def test_a_document_whose_records_cannot_be_written_fails_alone(tmp_path):
    from zhibiao.records import Document

    docs = [Document("a", "ok"), Document("b", "bad \udcff"), Document("c", "ok too")]
    out = tmp_path / "o.jsonl"
    s = extract_documents(SurrogateRecords(), docs, out, progress=False)
    assert s.failures == 1 and s.records == 2
    assert [r["doc_id"] for r in lines(out)] == ["a", "c"]
    [err] = lines(tmp_path / "o.jsonl.errors.jsonl")
    assert err["doc_id"] == "b" and err["status"] == "failed" and "cannot be written as UTF-8" in err["message"]


# ---- case 4: a resume that checks what it resumes --------------------------------------------

def finished_run(tmp_path: Path) -> tuple[Path, Path, bytes]:
    src = folder_of_reports(tmp_path / "in", 4)
    out = tmp_path / "out.jsonl"
    assert extract(src, "-o", out) == 0
    return src, out, out.read_bytes()


def test_resume_with_the_output_removed_is_an_error_and_writes_nothing(tmp_path, capsys):
    src, out, _ = finished_run(tmp_path)
    log = tmp_path / "out.jsonl.progress.jsonl"
    log_before = log.read_bytes()
    out.unlink()
    assert extract(src, "-o", out, "--resume") == 2
    assert "is missing" in capsys.readouterr().err
    assert not out.exists() and log.read_bytes() == log_before


@pytest.mark.parametrize("change", ["shorter", "edited", "no log"])
def test_resume_of_an_output_that_is_not_what_the_log_records(tmp_path, capsys, change):
    src, out, full = finished_run(tmp_path)
    if change == "shorter":
        out.write_bytes(full[: len(full) // 2])
    elif change == "edited":
        out.write_bytes(full.replace("青石镇".encode(), "白石镇".encode()))  # same length
    else:
        (tmp_path / "out.jsonl.progress.jsonl").unlink()
    damaged = out.read_bytes()
    assert extract(src, "-o", out, "--resume") == 2
    err = capsys.readouterr().err
    assert {"shorter": "holds", "edited": "was changed", "no log": "no progress log"}[change] in err
    assert out.read_bytes() == damaged  # no NUL padding, nothing truncated


@pytest.mark.parametrize("change", ["input", "option", "model"])
def test_resume_after_inputs_model_or_options_changed_is_an_error_naming_it(tmp_path, capsys, change):
    src, out, full = finished_run(tmp_path)
    args = [src, "-o", out, "--resume"]
    if change == "input":
        (src / "r9.txt").write_text(REPORT, encoding="utf-8")
    elif change == "option":
        args += ["--batch-size", "7"]
    capsys.readouterr()
    if change == "model":  # the rules model against a run recorded with another
        log = tmp_path / "out.jsonl.progress.jsonl"
        entries = lines(log)
        entries[0]["fingerprint"]["model"] = "/models/old 0123"
        log.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    assert extract(*args) == 2
    err = capsys.readouterr().err
    assert {"input": f"input {src} changed", "option": "option batch_size changed (64 -> 7)",
            "model": "the model changed"}[change] in err
    assert out.read_bytes() == full


def test_resume_after_a_kill_still_continues(tmp_path):
    src, out, full = finished_run(tmp_path)
    log = tmp_path / "out.jsonl.progress.jsonl"
    entries = log.read_text(encoding="utf-8").splitlines()
    log.write_text(entries[0] + "\n", encoding="utf-8")  # killed after the first document ...
    with out.open("ab") as fh:
        fh.write(b'{"indicator": "half')  # ... with a torn write at the end
    assert extract(src, "-o", out, "--resume") == 0
    assert out.read_bytes() == full


# ---- case 8: every skip reported, archives streamed, exit codes ------------------------------

def test_every_skip_is_reported_with_its_reason(tmp_path, capsys):
    outside = tmp_path / "outside"
    folder_of_reports(outside, 1)
    src = folder_of_reports(tmp_path / "in", 1)
    (src / "data.csv").write_text("a,b\n", encoding="utf-8")
    (src / ".hidden.txt").write_text(REPORT, encoding="utf-8")
    (src / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (src / "away").symlink_to(outside)  # a folder outside: not followed
    (src / "away.txt").symlink_to(outside / "r0.txt")
    with zipfile.ZipFile(src / "b.zip", "w") as z:
        z.writestr("inner.zip", b"PK")
        z.writestr("ok.txt", REPORT)
    out = tmp_path / "o.jsonl"
    assert extract(src, "-o", out) == 1  # old.doc failed
    err = capsys.readouterr().err
    assert "5 entries not read (skipped)" in err and "1 failures" in err
    status = {Path(e["doc_id"]).name: (e["status"], e["message"]) for e in lines(tmp_path / "o.jsonl.errors.jsonl")}
    assert status.pop("old.doc")[0] == "failed"
    assert {k: v[0] for k, v in status.items()} == dict.fromkeys(
        ["data.csv", ".hidden.txt", "away", "away.txt", "b.zip!inner.zip"], "skipped")
    assert "out of the input folder" in status["away"][1] and "unknown extension" in status["data.csv"][1]
    assert {r["doc_id"] for r in lines(out)} == {f"{src}/r0.txt", f"{src}/b.zip!ok.txt"}


def test_the_inputs_are_read_once_with_the_progress_bar(tmp_path, monkeypatch):
    from zhibiao.ingest import archives

    src = folder_of_reports(tmp_path / "in", 2)
    with zipfile.ZipFile(src / "b.zip", "w") as z:
        z.writestr("ok.txt", REPORT)
    calls = []
    real = archives.ArchiveReader.iter_archive
    monkeypatch.setattr(archives.ArchiveReader, "iter_archive", lambda self, *a: calls.append(a) or real(self, *a))
    assert main(["extract", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", "rules", "--workers", "1"]) == 0
    assert len(calls) == 1


_PEAK = """
import resource, sys
from zhibiao.ingest import iter_documents
items = list(iter_documents(sys.argv[1]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, [type(i).__name__ for i in items])
"""


def _peak_kib(path: Path) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, env=env,
                         check=True).stdout.split(" ", 1)
    return int(out[0]), eval(out[1])  # noqa: S307 - our own repr of a list of names


def test_a_zip_of_zeros_is_not_inflated(tmp_path):
    bomb, small = tmp_path / "bomb.zip", tmp_path / "small.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z, z.open("zeros.txt", "w", force_zip64=True) as fh:
        block = bytes(1 << 20)
        for _ in range(400):  # 400 MiB of zeros, about 0.4 MB zipped
            fh.write(block)
    with zipfile.ZipFile(small, "w") as z:
        z.writestr("a.txt", REPORT)
    base, _ = _peak_kib(small)
    peak, kinds = _peak_kib(bomb)
    assert kinds == ["BinaryContentError"]
    assert peak - base < 64 * 1024, f"peak {peak} KiB against {base} KiB for a tiny zip"


def test_max_unpacked_bytes_zero_and_negative(tmp_path, capsys):
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ok.txt", REPORT)
    out = tmp_path / "o.jsonl"
    assert extract(z, "-o", out, "--max-unpacked-bytes", "0") == 1  # nothing unpacked: the archive reported
    assert [e["error_type"] for e in lines(tmp_path / "o.jsonl.errors.jsonl")] == ["ArchiveTooLargeError"]
    with pytest.raises(SystemExit) as exc:
        extract(z, "-o", out, "--max-unpacked-bytes", "-1")
    assert exc.value.code == 2 and "must be >= 0" in capsys.readouterr().err


def test_a_missing_output_folder_is_a_usage_error(tmp_path, capsys, rules):
    from zhibiao.errors import ZhibiaoError

    src = folder_of_reports(tmp_path / "in", 1)
    missing = tmp_path / "no" / "x.jsonl"
    for args in (["-o", missing], ["-o", tmp_path / "o.jsonl", "--errors", missing]):
        with pytest.raises(SystemExit) as exc:
            extract(src, *args)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and "does not exist (create it first)" in err and "Traceback" not in err
    with pytest.raises(ZhibiaoError, match="does not exist"):
        extract_documents(rules, iter_documents(src), missing, progress=False)


def test_disk_full_is_exit_3_naming_the_file(tmp_path, monkeypatch, capsys):
    from zhibiao.io import progress

    src = folder_of_reports(tmp_path / "in", 3)

    def full(self, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(progress.ProgressLog, "write_document", full)
    assert extract(src, "-o", tmp_path / "o.jsonl") == 3
    err = capsys.readouterr().err
    assert "o.jsonl: cannot write: No space left on device" in err and "Traceback" not in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_an_errors_file_on_a_full_device_is_exit_3(tmp_path, capsys):
    src = folder_of_reports(tmp_path / "in", 1)
    (src / "empty.txt").write_text(" ", encoding="utf-8")
    assert extract(src, "-o", tmp_path / "o.jsonl", "--errors", "/dev/full") == 3
    assert "/dev/full: cannot write" in capsys.readouterr().err


def test_a_whole_file_format_replaces_the_output_only_when_complete(tmp_path, monkeypatch):
    from zhibiao.io import writers

    src = folder_of_reports(tmp_path / "in", 2)
    out = tmp_path / "o.parquet"
    assert extract(src, "-o", out) == 0
    before = out.read_bytes()

    def failing(jsonl, output, fmt, chunk=0):
        Path(output).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writers, "convert_records", failing)
    assert extract(src, "-o", out) == 3
    assert out.read_bytes() == before  # the old complete file, not a torn one


def test_exit_statuses_are_in_the_help():
    sub = build_parser()._subparsers._group_actions[0].choices["extract"]  # type: ignore[union-attr]
    text = sub.format_help()
    for line in ("0  every document done", "1  some documents failed", "2  usage error", "3  the run could not write"):
        assert line in text


# ---- properties: every file and every line accounted for -------------------------------------

SUFFIXES = [b".txt", b".md", b"", b".csv", b".doc", b".html", b".zip"]
names = st.builds(lambda stem, suffix: stem + suffix,
                  st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_")),
                  st.sampled_from(SUFFIXES)).filter(lambda n: n not in (b".", b".."))


def _accounted(out: Path) -> tuple[set[str], list[dict]]:
    log = out.with_name(out.name + ".progress.jsonl")
    done = {e["doc_id"] for e in lines(log)} if log.exists() else set()
    return done, lines(out.with_name(out.name + ".errors.jsonl"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(names, min_size=1, max_size=6, unique=True))
def test_any_file_names_every_file_yields_records_or_an_errors_line(rules, file_names):
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(os.fsencode(tmp), b"in")
        os.mkdir(folder)
        for name in file_names:
            with open(os.path.join(folder, name), "wb") as fh:
                fh.write(REPORT.encode("utf-8"))
        out = Path(tmp) / "o.jsonl"
        skipped: list[tuple[str, str]] = []
        src = os.fsdecode(folder)
        s = extract_documents(rules, iter_documents(src, on_skip=lambda n, w: skipped.append((n, w))), out,
                              progress=False, inputs=[src], skipped=skipped)
        done, errors = _accounted(out)
        reported = {e["doc_id"] for e in errors if e["status"] in ("failed", "skipped")}
        for name in file_names:
            doc_id = printable(os.path.join(src, os.fsdecode(name)))
            assert doc_id in done or doc_id in reported, doc_id
        assert s.not_read == sum(e["status"] == "skipped" for e in errors)


json_ids = st.one_of(st.none(), st.integers(), st.text(st.characters(codec=None), max_size=8), st.booleans())
json_lines = st.one_of(
    st.builds(lambda i, t: json.dumps({"text": t} if i is None else {"id": i, "text": t}).encode(), json_ids,
              st.text(st.characters(codec=None), max_size=30)),
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b" ")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(json_lines, min_size=1, max_size=8))
def test_any_jsonl_lines_every_line_accounted_for(rules, raw_lines):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "d.jsonl"
        src.write_bytes(b"\n".join(raw_lines) + b"\n")
        out = Path(tmp) / "o.jsonl"
        s = extract_documents(rules, iter_documents(src), out, progress=False, inputs=[src])
        done, errors = _accounted(out)
        n_lines = sum(1 for raw in src.read_bytes().split(b"\n") if raw.strip())
        assert len(done) + sum(e["status"] == "failed" for e in errors) == n_lines
        assert s.documents == n_lines


def test_line_break_characters_in_an_id_stay_on_one_line(tmp_path):
    """U+0085, U+2028 and U+2029 in a document id or text: every JSONL file the run writes splits
    into exactly one JSON object per line, whatever splits the lines (str.splitlines included)."""
    from zhibiao.io.escape import json_line

    weird = "a\x85b\u2028c\u2029d"
    assert json_line({"x": weird}).count("\n") == 1 and len(json_line({"x": weird}).splitlines()) == 1
    assert json.loads(json_line({"x": weird})) == {"x": weird}
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": weird, "text": "全镇共有脱贫户776户1605人。"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["extract", str(docs), "-o", str(out), "--model", "rules", "--no-progress"]) == 0
    for path in (out, out.with_name(out.name + ".errors.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            json.loads(line)
    assert {json.loads(l)["doc_id"] for l in out.read_text(encoding="utf-8").splitlines()} == {weird}


def test_normalize_output_keeps_one_document_a_line(tmp_path):
    """`zhibiao normalize` writes JSONL through the same line writer: a U+2028 in a page's text does
    not split its line for a line-splitting reader."""
    src = tmp_path / "page.txt"
    src.write_text("脱贫户776户\u2028监测户94户。", encoding="utf-8")
    out = tmp_path / "norm.jsonl"
    assert main(["normalize", str(src), "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "\u2028" in json.loads(lines[0])["text"]

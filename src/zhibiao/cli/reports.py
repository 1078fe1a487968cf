"""Commands over raw reports: ``zhibiao extract`` (records, with the local or the Ray engine) and
``zhibiao normalize`` (the text as the model sees it)."""
from __future__ import annotations

import argparse
import functools
import sys

from ..errors import ZhibiaoError
from ..io.escape import json_line
from .options import input_path, non_negative_int, output_file

EXTRACT_EXIT_STATUS = """\
exit status:
  0  every document done (entries not read, e.g. unknown extensions, are listed in the errors file)
  1  some documents failed (each in the errors file with its reason); the others are written
  2  usage error: bad paths or options, a missing output folder, an output, errors file or progress
     log that is an input, inside an input folder or another of them, a --resume that does not
     match what it resumes (the message says what changed); nothing is written
  3  the run could not write its output, errors file or progress log (disk full, no permission);
     what was committed stays and --resume continues it
"""


def add_normalize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("normalize", help="print documents as the model sees them (normalised text)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", type=input_path,
                   help="report files (.txt, .docx, .pdf, .html ...), folders, archives (.zip, .tar.*) or JSONL "
                        "files (one document per line)")
    p.add_argument("-o", "--output", default=None, type=output_file,
                   help="JSONL file to write (doc_id, encoding, text); default: standard output")
    p.set_defaults(func=cmd_normalize)


def add_extract(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="batch extraction over files, folders, archives or JSONL",
                       epilog=EXTRACT_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", type=input_path,
                   help="report files (.txt, .docx, .pdf with a text layer, .html ...), folders, archives "
                        "(.zip, .tar.*) or JSONL files; with --engine ray also URIs (s3://, gs://, file://)")
    p.add_argument("-o", "--output", required=True, type=output_file,
                   help="records file: .jsonl, .csv (UTF-8 with a BOM, for Excel), .xlsx or .parquet "
                        "(with --engine ray also a folder URI)")
    p.add_argument("--model", default=None, help="model folder, or 'rules' (default: the shipped model)")
    p.add_argument("--all-quantities", action="store_true", help="also write quantities with no linked indicator")
    p.add_argument("--resume", action="store_true",
                   help="continue a run that was stopped: skip documents already complete in OUTPUT; refused "
                        "(exit 2) if OUTPUT is missing or not what its progress log records, or the inputs, "
                        "model or options changed")
    p.add_argument("--errors", default=None, type=output_file,
                   help="errors file (default: OUTPUT + '.errors.jsonl')")
    p.add_argument("--batch-size", type=int, default=64,
                   help="documents per model call (default 64; windows are batched by length across them)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (per worker process with --workers > 1; default 1 there)")
    p.add_argument("--workers", default="auto", metavar="N|auto",
                   help="model worker processes, each with its own copy of the model (~0.5 GB); this process "
                        "reads and writes. 'auto' (default): one per CPU, at most 8 and never more than there are "
                        "batches (a single batch runs here, with no worker); 1: no workers")
    p.add_argument("--quantize", action="store_true", help="int8 dynamic quantisation of the model")
    p.add_argument("--taxonomy", default=None, help="extra indicator taxonomy YAML (extends the bundled one)")
    p.add_argument("--max-unpacked-bytes", type=non_negative_int, default=None, metavar="N",
                   help="limit on the bytes unpacked from one archive (default 2 GiB); an archive over it is "
                        "reported from the member that crosses it; 0: no member is unpacked (every archive with "
                        "content is reported, not read)")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="local (default): this machine, resumable; ray: a Ray cluster (pip install 'zhibiao[ray]')")
    p.add_argument("--ray-address", default=None,
                   help="with --engine ray: the cluster to join (auto, ray://host:10001); default: a local Ray")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (the bar counts documents as they are done, with no total: the inputs "
                        "are read once)")
    p.set_defaults(func=cmd_extract)


def cmd_extract(args: argparse.Namespace) -> int:
    """The ``zhibiao extract`` command: run an engine, report, exit 1 if any document failed (see
    :data:`EXTRACT_EXIT_STATUS`)."""
    from ..io.run_files import check_run_files, run_files
    from ..io.writers import errors_path_for

    check_run_files(args.inputs, run_files(args.output, args.errors or errors_path_for(args.output)))
    if args.engine == "ray":
        summary = _extract_with_ray(args)
        label = "zhibiao extract (ray)"
    else:
        summary = _extract_locally(args)
        label = "zhibiao extract"
    print(f"{label}: {summary.line()} -> {args.output}", file=sys.stderr)
    errors = args.errors or errors_path_for(args.output)
    if summary.failures:
        print(f"zhibiao extract: {summary.failures} document(s) failed, see {errors}", file=sys.stderr)
    if summary.not_read or summary.escaped:
        print(f"zhibiao extract: {summary.not_read} entries not read (skipped) and {summary.escaped} doc_id(s) "
              f"escaped, listed in {errors}", file=sys.stderr)
    return 1 if summary.failures else 0


def _extract_locally(args: argparse.Namespace):
    from ..batch import extract_documents
    from ..extract import bound_kernel_caches, load, model_folder
    from ..ingest import iter_documents
    from ..io.writers import output_format
    from ..workers import resolve_workers

    output_format(args.output)
    bound_kernel_caches()  # flat memory over long runs; spawned workers inherit it
    kw = {"max_unpacked_bytes": args.max_unpacked_bytes} if args.max_unpacked_bytes is not None else {}
    workers = resolve_workers(args.workers)  # the runner starts no more than there are batches
    # a missing folder fails here, before anything is read or written
    model = "rules" if args.model == "rules" else model_folder(args.model)
    # loaded here with one batch, else in each worker (where torch runs `threads or 1` threads)
    loader = functools.partial(load, args.model, quantize=args.quantize, threads=args.threads,
                               taxonomy=args.taxonomy)
    skipped: list[tuple[str, str]] = []
    docs = iter_documents(args.inputs, on_skip=lambda name, why: skipped.append((name, why)), **kw)
    return extract_documents(loader, docs, args.output, errors=args.errors,
                             resume=args.resume, all_quantities=args.all_quantities, batch_size=args.batch_size,
                             progress=not args.no_progress, workers=workers, worker_threads=args.threads or 1,
                             inputs=args.inputs, fingerprint=_fingerprint(args, model), skipped=skipped)


def _fingerprint(args: argparse.Namespace, model: object) -> dict:
    """What ``--resume`` checks (:func:`~zhibiao.io.progress.run_fingerprint`): the inputs, the model
    and the options that change the records (not --workers or --threads)."""
    from ..io.progress import file_digest, run_fingerprint

    taxonomy = None if args.taxonomy is None else f"{args.taxonomy} {file_digest(args.taxonomy)}"
    options = {"batch_size": args.batch_size, "all_quantities": args.all_quantities, "quantize": args.quantize,
               "taxonomy": taxonomy, "max_unpacked_bytes": args.max_unpacked_bytes}
    return run_fingerprint(args.inputs, str(model), options)


def _extract_with_ray(args: argparse.Namespace):
    if args.resume:
        raise ZhibiaoError("--resume is not supported with --engine ray (rerun the job; Ray retries failed tasks)")
    from ..integrations.ray import run_ray_extract

    return run_ray_extract(args.inputs, args.output, errors=args.errors, model=args.model, quantize=args.quantize,
                           threads=args.threads, taxonomy=args.taxonomy, all_quantities=args.all_quantities,
                           batch_size=args.batch_size, max_unpacked_bytes=args.max_unpacked_bytes,
                           ray_address=args.ray_address, progress=not args.no_progress)


def cmd_normalize(args: argparse.Namespace) -> int:
    """The ``zhibiao normalize`` command: one JSON line per document; exit 1 if any failed."""
    from ..ingest import iter_documents
    from ..normalize import normalize

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failures = 0
    try:
        for doc in iter_documents(args.inputs):
            if isinstance(doc, ZhibiaoError):
                failures += 1
                print(f"error: {doc}", file=sys.stderr)
                continue
            n = normalize(doc.text)
            out.write(json_line({"doc_id": doc.doc_id, "encoding": doc.encoding, "text": n.text}))
    finally:
        if out is not sys.stdout:
            out.close()
    return 1 if failures else 0

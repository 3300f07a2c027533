"""``python -m optimizer check --model PATH [--data PATH] [--label-column C] [--json -]``.

Checks an uploaded model (and data) the way the app and ``run`` do before anything runs:
file type and size, no code in the model (Lambda / custom layers refused before loading),
safe archives, the model loads (Keras 3 files are rebuilt in tf_keras and verified), and the
data fits it (shapes, labels, NaN, sample counts). Prints what was found, or one line
``error: cause; fix`` with exit status 2. With ``--workdir DIR`` the checked upload is kept
there (``DIR/upload.json`` is then a model reference for ``run``); without it, everything is
written to a temporary folder that is removed afterwards. With ``--json`` an error is also
printed as ``{"error": .., "kind": .., "message": {"id", "params"}}`` (how
``uploads.check.run_check`` reads it back: the app writes ``message`` in its reader's language).
``--warm SLOT`` (internal, what ``run_check`` passes): the check runs in a fork of that check
slot's warm process (``runs.warm.start_command``) and this process relays its output and its
end, or checks it itself when no warm process can be had.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import contextmanager

from optimizer.cli.output import write_json
from optimizer.text import msg


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="check an uploaded model and data file before running")
    p.add_argument("--model", required=True, metavar="PATH",
                   help="a Keras .h5/.keras file, a zipped SavedModel folder (.zip) or a .tflite")
    p.add_argument("--data", metavar="PATH",
                   help=".npz (x_train, y_train, x_test, y_test, or x), a zip of images in "
                        "class folders, or a CSV")
    add_data_options(p)
    p.add_argument("--workdir", metavar="DIR",
                   help="keep the checked upload in DIR (default: a temporary folder)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the checked upload as JSON to FILE (or - for stdout)")
    p.add_argument("--warm", type=int, metavar="SLOT", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def add_data_options(parser) -> None:
    """``--label-column`` and ``--pixel-range`` (shared with ``run`` and ``inspect``)."""
    from optimizer.models.uploads.raw_data import PIXEL_RANGES

    parser.add_argument("--label-column", metavar="NAME",
                        help="the CSV column holding the labels (without it: unlabelled)")
    parser.add_argument("--pixel-range", default="0-1", choices=sorted(PIXEL_RANGES),
                        help="scale images to this range (the model's own preprocessing)")


def data_options(args):
    """``DataOptions`` from the parsed ``--label-column`` / ``--pixel-range``."""
    from optimizer.models.uploads.raw_data import DataOptions

    return DataOptions(label_column=args.label_column, pixel_range=args.pixel_range)


def run(args) -> int:
    if args.warm is not None and args.workdir is not None and args.json == "-":
        code = _in_warm_process(args)
        if code is not None:
            return code
    from optimizer.models.uploads.errors import UploadError
    from optimizer.models.uploads.prepare import prepare_upload

    keep = args.workdir is not None
    holder = None if keep else tempfile.TemporaryDirectory(prefix="optimizer-check-")
    workdir = args.workdir if keep else holder.name
    try:
        with _stdout_to_stderr():  # libraries print banners; stdout carries only the JSON
            try:
                upload = prepare_upload(args.model, args.data, workdir, data_options(args))
            except UploadError:
                raise
            except Exception as exc:  # noqa: BLE001 - a loader's own failure: still one line
                from optimizer.models.uploads.errors import ProbeFailed, first_line

                raise ProbeFailed(msg("the model could not be checked ({kind}: {error}); save or "
                                      "convert it again", kind=type(exc).__name__,
                                      error=first_line(exc))) from None
    except UploadError as exc:
        if args.json is not None:
            message = getattr(exc, "message", None)
            write_json({"error": str(exc), "kind": exc.kind,
                        "message": message.to_dict() if message is not None else None}, args.json)
        raise
    finally:
        if holder is not None:
            holder.cleanup()
    doc = upload.to_dict()
    if args.json is not None:
        # without --workdir the folder is already deleted: print no path into it
        write_json(doc if keep else without_paths(doc, str(workdir)), args.json)
        return 0
    _print(doc, keep)
    return 0


def _in_warm_process(args) -> int | None:
    """The check (``--warm SLOT``, from ``uploads.check.run_check``) in a fresh fork of check
    slot SLOT's warm process: its output relayed here, and this process ends the way the fork
    ended (the same exit status, or killed by the same signal, so an out-of-memory kill still
    reads as one). None when no warm process can be used, or when the upload is refused before
    TensorFlow would load: the caller checks it itself. Dying (a timeout, the parent gone)
    closes the connection, and the fork dies with it. The screening runs here and again in the
    fork (the files are copied and the data parsed twice: milliseconds against the import the
    fork saves, within the upload limits)."""
    import shutil
    import signal

    from optimizer.models.uploads.check import CHILD_ENV_KEYS, check_command
    from optimizer.runs import warm

    if not warm.enabled() or not _passes_screening(args):
        return None
    folder = tempfile.mkdtemp(prefix="warm-check-")   # under TMPDIR: the upload's own tmp
    out, err = os.path.join(folder, "stdout"), os.path.join(folder, "stderr")
    try:
        argv = check_command(args.model, args.data, args.workdir, data_options(args))[3:]
        handle = warm.start_command(argv, out, err, warm.check_place(args.warm),
                                    drop_env=CHILD_ENV_KEYS)
        code = None if handle is None else handle.wait()
        if code is None or code == warm.LOST_EXIT:
            return None
        for path, stream in ((out, sys.stdout), (err, sys.stderr)):
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as text:
                    stream.write(text.read())
            stream.flush()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if code < 0:
        if -code != signal.SIGKILL:          # SIGKILL's action cannot be changed (or caught)
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _passes_screening(args) -> bool:
    """True when the upload passes every check that needs no TensorFlow (``screen_upload``,
    here: milliseconds); a file refused there is refused by this process itself, as before,
    without waiting for a warm process to import TensorFlow."""
    from optimizer.models.uploads.prepare import screen_upload

    with _stdout_to_stderr():
        try:
            screen_upload(args.model, args.data, args.workdir, data_options(args))
        except Exception:  # noqa: BLE001 - refused (or failing): checked here, with its error
            return False
    return True


def without_paths(doc, folder: str):
    """``doc`` without the values that point into ``folder`` (dropped, not left dangling)."""
    if isinstance(doc, dict):
        return {k: without_paths(v, folder) for k, v in doc.items()
                if not (isinstance(v, str) and v.startswith(folder))}
    if isinstance(doc, list):
        return [without_paths(v, folder) for v in doc
                if not (isinstance(v, str) and v.startswith(folder))]
    return doc


def _print(doc: dict, kept: bool) -> None:
    from optimizer.models.uploads.validate import tensors_text

    inputs = doc["signature"].get("inputs") or []
    outputs = doc["signature"].get("outputs") or []
    print(f"{doc['title']}: {doc['flavor']} model, input{'s' if len(inputs) > 1 else ''} "
          f"{tensors_text(inputs)} -> output {tensors_text(outputs)}")
    if doc.get("retrain_blocker"):
        print(f"training techniques: not applicable: {doc['retrain_blocker']}")
    else:
        print("training techniques: applicable (tf_keras model)")
    validation = doc.get("validation") or {}
    if validation:
        print(f"data {doc['data_title']}: {validation['data_answer']} ({validation['samples']}); "
              f"metric: {validation['metric']}")
    for line in doc.get("notes", []):
        print(f"  note: {line}")
    for line in doc.get("warnings", []):
        print(f"  warning: {line}")
    print(f"checked upload kept in {os.path.dirname(doc['manifest_path'])}" if kept else
          "everything checked; pass --workdir DIR to keep the checked upload")


@contextmanager
def _stdout_to_stderr():
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)

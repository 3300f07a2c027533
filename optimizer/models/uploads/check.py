"""Check an upload in a throwaway subprocess, with a timeout, and get one-line errors back.

``run_check(model, data, workdir)`` runs ``python -m optimizer check ... --workdir W --json -``
(``prepare_upload`` in another process): TensorFlow, h5py, Pillow and the LiteRT interpreter
touch the untrusted files there, never in the Streamlit server or the run orchestrator. That
process hands the check to a fresh fork of the check slot's warm process (``--warm SLOT``:
TensorFlow imported once, as a run's jobs get it) and ends the way the fork ended, or checks
it itself when warm processes are off or cannot be had (``cli.check``). The
child's temporary files and Keras config go to ``<workdir>/tmp`` (removed afterwards), so
nothing is written outside the upload's folder. Whatever happens to the child becomes one
line: its own ``UploadError`` (same class, same message), a timeout, a crash (signal), or
running out of memory.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from optimizer import queueing
from optimizer.models.uploads import errors
from optimizer.models.uploads.errors import ProbeFailed, UploadError
from optimizer.models.uploads.limits import ENV, Limits, limits
from optimizer.models.uploads.prepare import PreparedUpload
from optimizer.models.uploads.raw_data import DataOptions
from optimizer.text import Message, figure, msg

_KINDS = {cls.kind: cls for cls in (errors.UploadError, errors.TooLarge, errors.UnsafeArchive,
                                    errors.UnsafeModel, errors.UnreadableFile,
                                    errors.DataMismatch, errors.ProbeFailed)}


#: The slot pool of upload checks (``OPTIMIZER_MAX_CHECKS`` at once, default 1).
CHECK_POOL = "check"
#: The variables a check's process gets pointing into the upload's own ``tmp`` folder.
CHILD_ENV_KEYS = ("TMPDIR", "KERAS_HOME", "MPLCONFIGDIR")


def check_command(model, data, workdir, options: DataOptions | None = None,
                  warm: int | None = None) -> list[str]:
    """The ``python -m optimizer check`` command line for one upload; ``warm``: the check
    slot whose warm process should run it (``cli.check``: TensorFlow already imported there)."""
    options = options or DataOptions()
    command = [sys.executable, "-m", "optimizer", "check", "--model", str(model),
               "--workdir", str(workdir),
               # one token: "-1-1" as its own argument would look like an option to argparse
               f"--pixel-range={options.pixel_range}", "--json", "-"]
    if data is not None:
        command += ["--data", str(data)]
    if options.label_column is not None:
        command += ["--label-column", options.label_column]
    if warm is not None:
        command += ["--warm", str(int(warm))]
    return command


def run_check(model: Path | str, data: Path | str | None, workdir: Path | str,
              options: DataOptions | None = None, lim: Limits | None = None) -> PreparedUpload:
    """Prepare an upload in a subprocess (``prepare_upload``); return its ``PreparedUpload``.

    Blocks for seconds (a TensorFlow import) up to ``limits().probe_timeout_s``. Raises an
    ``UploadError`` subclass with a one-line message for any failure.
    """
    from optimizer.procs import child_env

    lim = lim or limits()
    workdir = Path(workdir).resolve()
    # The child runs inside the upload folder: hand it absolute paths.
    model = Path(model).expanduser().resolve()
    data = None if data is None else Path(data).expanduser().resolve()
    tmp = workdir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    # die_with_parent: a killed `run` (or app) never leaves its check running outside the
    # check pool, whose slot it held.
    env = {**child_env(die_with_parent=True),
           **dict(zip(CHILD_ENV_KEYS, (str(tmp), str(tmp / "keras"), str(tmp / "mpl"))))}
    try:
        # A bounded pool, first come first served: three big uploads at once must not load
        # three TensorFlows (memory grew to 4.4 GB); the timeout starts once the check runs.
        with queueing.slot(CHECK_POOL, int(lim.max_checks)) as index:
            proc = subprocess.run(check_command(model, data, workdir, options, warm=index),
                                  capture_output=True, text=True, env=env,
                                  timeout=float(lim.probe_timeout_s),
                                  stdin=subprocess.DEVNULL, cwd=workdir)
    except subprocess.TimeoutExpired:
        raise ProbeFailed(msg("checking the upload took over {seconds} s and was stopped; upload "
                              "a smaller model or raise {variable}",
                              seconds=figure(lim.probe_timeout_s, "plain"),
                              variable=ENV["probe_timeout_s"])) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _outcome(proc, workdir)


def _outcome(proc: subprocess.CompletedProcess, workdir: Path) -> PreparedUpload:
    doc = _json(proc.stdout)
    if proc.returncode == 0 and isinstance(doc, dict) and "manifest_path" in doc:
        return PreparedUpload.load(doc["manifest_path"])
    if isinstance(doc, dict) and doc.get("error"):
        # the child's message as data (id and values), so the page can write it in its language
        raise _KINDS.get(doc.get("kind"), UploadError)(Message.from_dict(doc.get("message"))
                                                       or doc["error"])
    if proc.returncode < 0:
        sig = -proc.returncode
        name = signal.Signals(sig).name if sig in {s.value for s in signal.Signals} else str(sig)
        if sig == signal.SIGKILL:
            raise ProbeFailed(msg("checking the upload ran out of memory and was stopped; upload a "
                                  "smaller model or data file"))
        raise ProbeFailed(msg("the model crashed the process that loads it ({name}); the file is damaged "
                              "or not supported: save or convert it again",
                              name=name))
    lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
    reason = next((ln[len("error:"):].strip() for ln in reversed(lines)
                   if ln.startswith("error:")), None)
    if reason:
        raise UploadError(reason)
    tail = lines[-1][:200] if lines else f"exit status {proc.returncode}"
    raise ProbeFailed(msg("checking the upload failed unexpectedly ({tail}); try again, and if it keeps "
                          "failing the model may not be supported",
                          tail=tail))


def _json(text: str):
    text = (text or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        # The child printed something before its JSON (a library's banner): take the last
        # line that parses.
        for line in reversed(text.splitlines()):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None

"""``python -m optimizer run``: optimize a model with one or more techniques and measure them.

``--model NAME_OR_PATH [--data PATH] --technique ID [--technique ID ...] [--set k=v ...]
[goals and answers] [--out DIR] [--events FILE] [--json FILE_OR_-]``, or ``--request FILE``
(a run folder's ``request.json``: the same keys) instead of the request flags. The goals
(``--target``, ``--max-accuracy-drop``, ``--relative``, ``--max-size-bytes`` |
``--max-size-ratio``, ``--size-measure``, ``--max-latency-ms``, ``--mcu-ram-kb``,
``--mcu-flash-kb``, ``--must-be-ready``) are the search's; the answers are ``recommend``'s
(``--data-kind`` for its ``--data``, ``--retrain``, ``--size-goal``, ``--effort``,
``--accuracy``, ``--no-optimize``). They are recorded in ``request.json`` and judge the results
exactly as the app does: ``results.json`` gets ``insights`` and, with goals, ``checks``
(``{technique: {"met", "summary", "items"}}``). The float32 baseline is always included.
Exit status 0 when the run worked even if a technique failed (its result says why); 2 with a
one-line message on unusable input (unknown model, bad spec, bad ``--set``, a bad request
file); 1 when the float32 baseline itself failed (nothing to compare against).
"""
from __future__ import annotations

import os
import sys
import textwrap
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from optimizer.artifacts import store
from optimizer.cli import UsageError
from optimizer.cli.check import add_data_options, data_options
from optimizer.cli.output import write_json
from optimizer.cli.request_flags import (
    ANSWER_FIELDS,
    GOAL_DESTS,
    add_answer_options,
    add_goal_options,
    add_request_option,
    answers_from_flags,
    given_fields,
    read_request,
)
from optimizer.runs.request import RunRequest

#: The flags that set the measured part of a run request.
MEASURED_DESTS = ("model", "data", "technique", "settings")


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run techniques on a model and measure every result")
    p.add_argument("--model", metavar="NAME_OR_PATH", default=None,
                   help="a built-in demo (see `models`), a Keras .h5/.keras file (tf_keras or "
                        "Keras 3), a zipped SavedModel folder (.zip) or a float .tflite")
    p.add_argument("--data", metavar="PATH", help=".npz with x_train, y_train, x_test, y_test "
                                                 "(or only x, unlabelled; several inputs: "
                                                 "x_train.<input name>, ...), a zip of images "
                                                 "in class folders, or a CSV")
    add_data_options(p)
    p.add_argument("--technique", action="append", default=None, metavar="ID",
                   help="technique spec, e.g. float16 or pruning+dynamic_range (repeatable; "
                        "comma-separated lists also work)")
    p.add_argument("--set", action="append", default=None, metavar="KEY=VALUE", dest="settings",
                   help="a setting, e.g. pruning.sparsity=0.8 or finetune.epochs=3 (repeatable); "
                        "KEY=@FILE takes a JSON file, e.g. mixed.plan=@plan.json")
    add_request_option(p, store.REQUEST)
    goals = p.add_argument_group("goals the results are judged by (as in the app)")
    add_goal_options(goals)
    answers = p.add_argument_group("answers to the guide's questions (as recommend asks them)")
    add_answer_options(answers)
    p.add_argument("--out", metavar="DIR", help="run folder (default ./out/<model>-<timestamp>)")
    p.add_argument("--events", metavar="FILE",
                   help="progress events file (default <out>/events.jsonl)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write {model, results, insights, checks} as JSON to FILE (or - for "
                        "stdout)")
    p.add_argument("--no-cache", action="store_true",
                   help="measure again even when an identical run (same model file, data, "
                        "techniques, settings, packages, code and timing machine) was "
                        "measured before")
    add_executor_options(p)
    p.set_defaults(func=run)


def request_from_args(args) -> RunRequest:
    """The ``RunRequest`` the flags (or ``--request FILE``) ask for; ``UsageError`` /
    ``ValueError`` name the fix."""
    measured = given_fields(args, MEASURED_DESTS)
    goals = given_fields(args, GOAL_DESTS)
    answers = given_fields(args, ANSWER_FIELDS)
    if args.request:
        return read_request(RunRequest, args.request, {**measured, **goals, **answers})
    if "model" not in measured:
        raise UsageError("--model (or --request FILE) is required, e.g. --model digits-cnn "
                         "--technique float16")
    techniques = [t.strip() for item in args.technique or () for t in item.split(",")
                  if t.strip()]
    return RunRequest(model=args.model, techniques=tuple(techniques), data=args.data,
                      settings=measured.get("settings", ()), answers=answers_from_flags(args),
                      **goals)


def add_executor_options(p) -> None:
    """``--executor local|ray`` and ``--ray-address HOST:PORT`` (shared with ``search``)."""
    from optimizer.runs.executor import ENV_EXECUTOR, ENV_RAY_ADDRESS, ExecutorKind

    p.add_argument("--executor", choices=[k.value for k in ExecutorKind], default=None,
                   help=f"where jobs run: local child processes (default) or a Ray cluster "
                        f"(default from {ENV_EXECUTOR})")
    p.add_argument("--ray-address", metavar="HOST:PORT", default=None,
                   help=f"the Ray head's address for --executor ray (default from "
                        f"{ENV_RAY_ADDRESS})")


def executor_choice(args):
    """The executor the flags (else the environment) ask for; ``UsageError`` when unusable."""
    from optimizer.runs.executor import choose_executor

    try:
        return choose_executor(args.executor, args.ray_address)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run(args) -> int:
    from optimizer.models.resolve import resolve_model
    from optimizer.runs.executor import make_executor
    from optimizer.runs.orchestrate import execute_run

    choice = executor_choice(args)
    request = request_from_args(args)  # ValueError -> one line, exit 2
    upload = needs_check(request.model)
    stem = Path(request.model).stem if upload else None
    if upload and request.data is None:
        raise UsageError("a model file needs data to measure accuracy: add --data PATH (.npz, "
                         "a zip of images in class folders, or a CSV)")
    if not upload:
        bundle = resolve_model(request.model, request.data)
        stem = bundle.name
    run_dir = Path(args.out or Path("out") / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    run_dir = run_dir.resolve()
    if upload:
        # An uploaded file is untrusted: check it (and its data) in a throwaway process and
        # run the checked copy in <run_dir>/upload; a bad file exits here with one line.
        _refuse_used(run_dir)
        from optimizer.models.uploads import run_check

        checked = run_check(request.model, request.data, run_dir / "upload", data_options(args))
        request = replace(request, model=checked.manifest_path, data=checked.data)
    bundle = resolve_model(request.model, request.data)
    request = replace(request, model=bundle.ref, data=bundle.data)
    events = Path(args.events).resolve() if args.events else run_dir / store.EVENTS
    _claim(run_dir, request)
    try:
        executor = make_executor(choice)
    except ValueError as exc:  # the cluster cannot be reached: one line, exit 2
        raise UsageError(str(exc)) from None
    with store.RunLock(run_dir), _closing(executor):
        from optimizer.artifacts.provenance import provenance
        from optimizer.workspace.cache import cache_key

        node = executor.timing_node()   # the machine that will time latency (a Ray node)
        key = cache_key(request, bundle, executor=choice.kind.value, node=node)
        # Recorded as queued now (an app run: when start_run queued it), so `history` lists
        # it in its place while it waits or runs, and an identical run sees it.
        queued_at = (store.read_pid(run_dir) or {}).get("t") or round(time.time(), 3)
        run_id = record_history(run_dir, cache_key=key, queued_at=queued_at)
        # start_run makes this process a group leader (cancel signals the group); a run from
        # a user's shell is not, and must never signal the shell's job (cancel walks the tree).
        leader = os.getpgrp() == os.getpid()
        store.write_pid(run_dir, os.getpid(), os.getpid() if leader else None)
        try:
            fields = {"run_id": run_id, "cache_key": key, "provenance": provenance(node)}
            judged = {}

            def judge(results):
                # the verdicts land in results.json before the run is announced finished
                judged["verdict"] = _verdict(run_dir, results)
                return judged["verdict"].judgement()

            with _cache_claim(key, events, args.no_cache) as hit:
                outcome = None if hit is None else _from_cache(
                    hit, run_dir, events, bundle, request, fields, args.json, judge)
                if outcome is None:
                    outcome = execute_run(request, run_dir, events,
                                          json_path=_json_file(args.json), fields=fields,
                                          executor=executor, judge=judge)
                    record_history(run_dir)   # finished before an identical run looks again
        except Exception as exc:
            from optimizer.artifacts import space
            from optimizer.artifacts.events import EventLog, EventType

            if space.is_no_space(exc):
                exc = space.NoSpace(space.no_space_message(run_dir, space.RUN_OVERHEAD_BYTES,
                                                           "this run"))
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            try:
                EventLog(events).emit(EventType.ERROR, message=message)
            except OSError:
                pass  # the disk is full: the message still reaches stderr and run.log
            raise exc
        finally:
            record_history(run_dir)
    verdict = _write_judgement(outcome, run_dir, _json_file(args.json), judged.get("verdict"))
    if args.json == "-":
        doc = store.read_json(run_dir / store.RESULTS)
        write_json(doc, "-")
    elif args.json is None:
        _print_table(outcome, run_dir)
        doc = store.read_json(run_dir / store.RESULTS) or {}
        if doc.get("cached"):
            source = doc.get("cached_from") or {}
            print(f"cached: an identical run was measured at {source.get('measured_at')} on "
                  f"{source.get('measured_on')}; pass --no-cache to measure again")
        print_insights(verdict.insights)
        print_checks(verdict.checks, verdict.judged_by())
    if outcome.error:
        print(f"error: {outcome.error}", file=sys.stderr)
        return 1
    return 0


def _cache_claim(key: str, events: Path, no_cache: bool):
    """``cache.claim``: a finished identical run to serve (waiting while one is measured), or
    None to measure; with ``--no-cache`` always None."""
    from contextlib import nullcontext

    from optimizer.artifacts.events import EventLog
    from optimizer.workspace import cache

    return nullcontext(None) if no_cache else cache.claim(key, log=EventLog(events))


def _from_cache(hit: tuple, run_dir: Path, events: Path, bundle, request, fields: dict,
                json_arg: str | None, judge=None):
    """Serve ``hit`` (the row and results of a finished identical run) into this run."""
    from optimizer.runs.orchestrate import RunOutcome
    from optimizer.workspace import cache

    row, results = hit
    extra = {**fields, "model_ref": bundle.ref, "sha256": bundle.sha256, "data": request.data,
             "run_dir": str(run_dir)}   # the same keys as a measured run's results.json
    doc = cache.serve(row, results, run_dir, events, bundle.name, extra, judge=judge)
    if _json_file(json_arg) is not None:
        store.write_json_atomic(_json_file(json_arg), doc)
    return RunOutcome(model=bundle.name, results=results, error=None)


def record_history(run_dir: Path, **fields) -> str:
    """Index the run in the workspace's history and return its id; a history that cannot be
    written never stops a run (the folders are the record; ``history --rebuild`` re-reads)."""
    import sqlite3

    from optimizer.workspace import index

    try:
        return index.record(run_dir, **fields)
    except (ValueError, OSError, sqlite3.Error) as exc:
        print(f"warning: the run history was not updated ({exc}); rebuild it later with "
              f"`python -m optimizer history --rebuild`", file=sys.stderr)
        return run_dir.name


def _verdict(run_dir: Path, results):
    from optimizer.report.verdict import run_verdict

    return run_verdict(run_dir, results=results)


def _write_judgement(outcome, run_dir: Path, json_path: Path | None, verdict=None):
    """Judge the results by the answers and goals in the run's ``request.json`` exactly as the
    app does (``report.verdict.run_verdict``; ``verdict`` when it was already judged) and add
    ``"insights"``, ``"checks"`` and ``"verdict"`` to ``results.json`` (and the ``--json``
    file); returns the verdict."""
    verdict = verdict if verdict is not None else _verdict(run_dir, outcome.results)
    keys = verdict.judgement()
    for path in {run_dir / store.RESULTS, json_path}:
        if path is not None:
            store.add_to_results(path, **keys)
    return verdict


def print_insights(notes) -> None:
    """The insights as plain text, one per paragraph (the same list the app shows)."""
    if notes:
        print("\nInsights (from the measurements above):")
    for note in notes:
        label = f"[{note.kind}{' ' + note.technique if note.technique else ''}]"
        print(textwrap.fill(f"{label} {note.message}", width=100, subsequent_indent="  "))


def print_checks(checks: dict, judged_by: str = "") -> None:
    """Each result's verdict on the run's goals, with the numbers of every goal it does not
    meet (missed, within noise, not checked yet)."""
    if checks:
        print(f"\nGoals ({judged_by or 'the goals this run was asked with'}):")
    for technique, check in checks.items():
        print(f"  {technique}: {check.summary}")
        for item in check.items:
            if not item.met:
                print(textwrap.fill(f"{item.name}: {item.detail}", width=100,
                                    initial_indent="    - ", subsequent_indent="      "))
    if any(item.name == "target" for check in checks.values() for item in check.items):
        print(textwrap.fill("A run does not check readiness itself: `python -m optimizer "
                            "readiness --model FILE.tflite --target T` checks one file, the "
                            "Results page's Check readiness every variant.", width=100,
                            initial_indent="  ", subsequent_indent="  "))


@contextmanager
def _closing(executor):
    try:
        yield executor
    finally:
        executor.close()


def needs_check(ref: str) -> bool:
    """True for a model file that has not been checked yet (not a demo, not a checked
    upload's ``upload.json``): ``run`` checks it first (``uploads.run_check``)."""
    from optimizer.models.uploads.prepare import is_manifest

    path = Path(str(ref)).expanduser()
    return path.suffix.lower() in (".h5", ".hdf5", ".keras", ".zip", ".tflite") and \
        not is_manifest(ref)


def _refuse_used(run_dir: Path) -> None:
    """Refuse a folder where a run already started (its events exist). A ``request.json``
    alone is fine: ``start_run`` writes it before it spawns this command."""
    from optimizer.artifacts.events import read_events

    if read_events(run_dir / store.EVENTS):
        raise UsageError(f"{run_dir} already holds a run; pass a new --out folder")


def _json_file(value: str | None) -> Path | None:
    return None if value in (None, "-") else Path(value).resolve()


def _claim(run_dir: Path, request: RunRequest) -> None:
    """Use ``run_dir`` for this run, refusing a folder that holds a past run; its
    ``request.json`` (written by ``start_run``, read back with ``--request``) says what runs."""
    _refuse_used(run_dir)
    if store.read_json(run_dir / store.REQUEST) != request.to_dict():
        run_dir.mkdir(parents=True, exist_ok=True)
        store.write_json_atomic(run_dir / store.REQUEST, request.to_dict())


def _print_table(outcome, run_dir: Path) -> None:
    from optimizer import numbers

    results = outcome.results
    metric = next((r.metric for r in results if r.metric), "accuracy")
    places = numbers.metric_places([r.accuracy for r in results],
                                   [r.delta_value for r in results if not r.is_baseline],
                                   metric, max((r.samples or 0 for r in results), default=0))
    rows = [("technique", "status", f"{metric} (95 % interval)", "delta (p)", "size", "gzip",
             "latency (p10-p90)", "in/out", "engine")]
    for r in results:
        latency = "-" if r.latency_ms_median is None else (
            f"{numbers.ms(r.latency_ms_median)} "
            f"({numbers.ms_range(r.latency_ms_p10, r.latency_ms_p90)})")
        delta = "-" if r.delta_value is None or r.is_baseline else (
            numbers.change(r.delta_value, metric)
            + (f" ({numbers.p_value(r.delta_p)})" if r.delta_p is not None else ""))
        rows.append((r.shown_as, r.status,
                     numbers.metric_ci(r.accuracy, r.accuracy_ci, metric, places)
                     if r.accuracy is not None else "-", delta,
                     numbers.size(r.size_bytes), numbers.size(r.gzip_bytes), latency,
                     f"{r.input_dtype or '-'}/{r.output_dtype or '-'}", r.engine or "-"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    for r in results:
        if r.error:
            print(f"{r.technique}: {r.error}")
    percent = numbers.is_percent(metric)
    print(f"\n{metric}{' in %' if percent else ''} on the test split; delta against float32 in "
          f"{'points' if percent else 'its units'} with the paired test's p-value; files in "
          f"{run_dir}")

"""``python -m optimizer search``: the smallest model that meets your goals on your hardware.

``--model M [--data D] --target T --max-accuracy-drop X [--relative] [--max-size-bytes N |
--max-size-ratio R] [--max-latency-ms L] [--time-budget S] [--size-measure raw|gzip]
[--out DIR] [--json FILE_OR_-]`` runs every technique the target allows, cheap to expensive,
skipping what cannot beat the best so far, within the time budget, and prints
``{"trials": [..], "pareto": [..], "best": {..} or null, "goal_met": bool, "explanation": ".."}``
(plus the details: skipped candidates and why, notes, per-trial goal checks).
``--request FILE`` reads the whole request from a search folder's ``search.json`` (or any JSON
with its keys) instead of the request flags, which are then refused; the app's searches start
this way. The goal flags and keys are ``run``'s.

``--max-accuracy-drop`` is in the metric's units (0.01 = 1 point of accuracy) or, with
``--relative``, a fraction of the baseline. Sizes are bytes on disk unless
``--size-measure gzip`` (the download size). On a finished search folder,
``--out DIR --keep-float LAYER [...]`` keeps those layers (op names from the per-layer report)
of post-training int8 in float as one more trial, and ``--out DIR --analyse-layers`` measures
the per-layer int8 error only. Exit status: 0 when the search ran (whether or not a trial met
the goals: ``goal_met`` says), 1 when the float32 baseline failed, 2 on unusable input.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from optimizer.artifacts import store
from optimizer.cli import UsageError
from optimizer.cli.output import write_json
from optimizer.cli.request_flags import (
    GOAL_DESTS,
    add_goal_options,
    add_request_option,
    flag_name,
    given_fields,
    read_request,
)
from optimizer.cli.run import add_executor_options, executor_choice, record_history
from optimizer.guide.stage_handlers import KNOBS
from optimizer.search.request import (
    DEFAULT_MAX_FLOAT_LAYERS,
    DEFAULT_MAX_PRECISION_TRIALS,
    DEFAULT_TIME_BUDGET_S,
    OBJECTIVES,
    PRECISION_STRATEGIES,
)


def _floats(text: str) -> tuple:
    try:
        return tuple(float(v) for v in str(text).split(",") if v.strip())
    except ValueError:
        raise UsageError(f"'{text}' must be comma-separated numbers, e.g. 0.5,0.75") from None


def _knob_dest(key: str) -> str:
    return "knob_" + key.replace(".", "_")


def _knob_levels(args) -> dict:
    """``{knob key: levels}`` for the knob options given (the request validates them)."""
    return {key: _floats(getattr(args, _knob_dest(key))) for key in KNOBS
            if getattr(args, _knob_dest(key), None)}


def add_parser(sub) -> None:
    p = sub.add_parser("search", help="search every technique the target allows for the "
                                      "smallest model that meets your goals")
    p.add_argument("--model", metavar="NAME_OR_PATH", help="a built-in demo or a model file")
    p.add_argument("--data", metavar="PATH", help=".npz data for a model file")
    add_request_option(p, "search.json")
    add_goal_options(p)
    p.add_argument("--objective", choices=OBJECTIVES, default=None,
                   help="among the trials that meet every goal, the smallest (default) or the "
                        "most accurate")
    p.add_argument("--time-budget", type=float, default=None, metavar="S", dest="time_budget_s",
                   help=f"seconds for the whole search (default {DEFAULT_TIME_BUDGET_S:g})")
    p.add_argument("--max-float-layers", type=int, default=None, metavar="N",
                   help=f"most layers selective quantization may keep in float (default "
                        f"{DEFAULT_MAX_FLOAT_LAYERS})")
    p.add_argument("--technique", action="append", default=None, metavar="SPEC",
                   dest="techniques", help="only these candidates (repeatable or comma "
                                           "separated; the float32 baseline always runs), "
                                           "e.g. integer_only to compare precision strategies")
    p.add_argument("--precision-strategy", choices=PRECISION_STRATEGIES, default=None,
                   help="how int8 that misses the accuracy budget is repaired: sensitivity "
                        "(default: measure each layer, then verify the cheapest mixed-precision "
                        "plan predicted to meet it), op-type (one op type at a time to a higher "
                        "precision), keep-float (the worst layers in float) or none")
    p.add_argument("--max-precision-trials", type=int, default=None, metavar="N",
                   help=f"most mixed-precision plans a strategy may verify (default "
                        f"{DEFAULT_MAX_PRECISION_TRIALS})")
    for key, knob in KNOBS.items():  # --sparsities, --clusters: each stage knob's levels
        p.add_argument(knob.cli_flag, metavar="A,B", dest=_knob_dest(key), help=knob.help)
    p.add_argument("--set", action="append", default=None, metavar="KEY=VALUE", dest="settings",
                   help="a setting for every trial, e.g. finetune.epochs=3 (repeatable)")
    p.add_argument("--out", metavar="DIR", help="search folder (default ./out/search-<model>-"
                                                "<timestamp>)")
    p.add_argument("--keep-float", action="append", default=[], metavar="LAYER",
                   help="on a finished search (--out DIR): keep this int8 op in float "
                        "(repeatable)")
    p.add_argument("--analyse-layers", action="store_true",
                   help="on a finished search (--out DIR): measure the per-layer int8 error")
    p.add_argument("--measure-precisions", action="store_true",
                   help="on a finished search (--out DIR): measure each layer at every "
                        "precision the target allows (the sensitivity pass)")
    p.add_argument("--plan", metavar="FILE",
                   help="on a finished search (--out DIR): measure this mixed-precision plan "
                        "(a JSON file: {\"layers\": {\"<layer>\": \"int8|int16|float\"}, "
                        "\"io\": \"float|integer\"}) as one more trial")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the outcome as JSON to FILE (or - for stdout)")
    add_executor_options(p)
    p.set_defaults(func=run)


#: The flags that set a search request's own fields (the goals' are ``GOAL_DESTS``).
SEARCH_DESTS = ("model", "data", "objective", "time_budget_s", "max_float_layers", "settings",
                "precision_strategy", "max_precision_trials", "techniques")


def _request(args):
    """The ``SearchRequest`` the flags (or ``--request FILE``) ask for."""
    from optimizer.search.request import SearchRequest

    given = {**given_fields(args, SEARCH_DESTS), **given_fields(args, GOAL_DESTS)}
    if _knob_levels(args):
        given["knob_levels"] = _knob_levels(args)
    if args.request:
        return read_request(SearchRequest, args.request, given)
    missing = [flag_name(dest) for dest in ("model", "target", "max_accuracy_drop")
               if dest not in given]
    if missing:
        raise UsageError(f"{', '.join(missing)} required (or --request FILE), e.g. --model "
                         "digits-cnn --target cpu --max-accuracy-drop 0.01")
    if "settings" in given:
        given["settings"] = tuple(given["settings"])
    if "techniques" in given:
        given["techniques"] = tuple(t.strip() for item in given["techniques"]
                                    for t in item.split(",") if t.strip())
    return SearchRequest(**given)


def run(args) -> int:
    from optimizer.search.runner import SEARCH, execute_repair, execute_search

    if args.keep_float or args.analyse_layers or args.measure_precisions or args.plan:
        if not args.out:
            raise UsageError("--keep-float, --analyse-layers, --measure-precisions and --plan "
                             "work on a finished search: pass its folder with --out DIR")
        plan = _plan_file(args.plan) if args.plan else None
        run_dir = Path(args.out).resolve()
        with store.RunLock(run_dir):
            _own(run_dir)
            outcome = execute_repair(run_dir, args.keep_float, analyse=args.analyse_layers,
                                     sensitivity=args.measure_precisions, plan=plan)
    else:
        from optimizer.models.resolve import resolve_model

        request = _request(args)
        _readiness_possible(request)                          # before any trial runs
        bundle = resolve_model(request.model, request.data)   # fail fast on unusable input
        run_dir = Path(args.out or Path("out") / f"search-{bundle.name}-"
                                                  f"{time.strftime('%Y%m%d-%H%M%S')}").resolve()
        choice = executor_choice(args)
        _claim(run_dir, request, SEARCH)
        from optimizer.runs.executor import make_executor

        try:
            executor = make_executor(choice)
        except ValueError as exc:  # the cluster cannot be reached: one line, exit 2
            raise UsageError(str(exc)) from None
        with store.RunLock(run_dir):
            _own(run_dir)
            record_history(run_dir)
            try:
                outcome = execute_search(request, run_dir, executor=executor)
            finally:
                executor.close()
                record_history(run_dir)
    doc = store.read_json(run_dir / "outcome.json") or outcome.to_dict()
    doc = {**doc, "run_id": record_history(run_dir)}
    if args.json is not None:
        write_json(doc, args.json)
    if args.json != "-":
        _print(outcome, run_dir)
    if outcome.error:
        print(f"error: {outcome.error}", file=sys.stderr)
        return 1
    return 0


def _readiness_possible(request) -> None:
    """Refuse at once (exit 2) a search whose trials must be ready on a target whose check
    cannot run here (the NPU checks without `make setup-npu`)."""
    from optimizer.search.request import readiness_blocker

    blocker = readiness_blocker(request)
    if blocker:
        raise UsageError(blocker.replace("(must be ready: off)", "(--no-must-be-ready)"))


def _own(run_dir: Path) -> None:
    # A search started by the app leads its own process group (stop signals the group); one
    # started from a user's shell must never signal the shell's job.
    leader = os.getpgrp() == os.getpid()
    store.write_pid(run_dir, os.getpid(), os.getpid() if leader else None)


def _claim(run_dir: Path, request, name: str) -> None:
    """Use ``run_dir`` for this search, refusing a folder that holds another run or search."""
    existing = store.read_json(run_dir / name)
    if (run_dir / store.EVENTS).exists() or (run_dir / store.REQUEST).exists() or (
            existing is not None and existing != request.to_dict()):
        raise UsageError(f"{run_dir} already holds a run or search; pass a new --out folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    store.write_json_atomic(run_dir / name, request.to_dict())


def _print(outcome, run_dir: Path) -> None:
    from optimizer import numbers
    from optimizer.report.search_charts import trials_places, trials_table

    columns = ("Trial", "Status", "Goals", "Accuracy", "95 % interval", "Δ (p)", "Size (kB)",
               "gzip (kB)", "Latency median")
    places = trials_places(outcome)
    rows = [columns]
    for row in trials_table(outcome):
        row["Trial"] += " *" if row["Best"] else ""
        row["Accuracy"] = numbers.fixed(row["Accuracy"], places)
        for key in ("Size (kB)", "gzip (kB)"):
            row[key] = numbers.sig(row[key])
        rows.append(tuple("-" if row[c] in (None, "", numbers.MISSING) else row[c]
                          for c in columns))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    print(f"\n{outcome.explanation}")
    if outcome.pareto:
        print(f"Pareto front (accuracy, size, latency): {', '.join(outcome.pareto)}")
    print(f"Files in {run_dir}")


def _plan_file(path: str):
    """The ``LayerPlan`` in a JSON file (``ValueError`` naming the file and the fix)."""
    from optimizer.cli.request_flags import setting_from_file
    from optimizer.guide.precision import LayerPlan

    return LayerPlan.parse(setting_from_file(f"--plan=@{path}").split("=", 1)[1])

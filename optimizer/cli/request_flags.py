"""The flags that spell a request, shared by ``run`` and ``search``, and ``--request FILE``.

Each flag's ``dest`` is the request field it sets (``--max-accuracy-drop`` ->
``max_accuracy_drop``), with no argparse default, so ``given_fields`` knows exactly what the
user typed: a request is built from those fields (the request's own defaults fill the rest)
or read whole from ``--request FILE`` (a ``request.json`` / ``search.json``), beside which
a flag that sets a request field is refused -- the file is the request.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from optimizer import numbers
from optimizer.cli import UsageError
from optimizer.guide.goal_fields import SIZE_MEASURES
from optimizer.guide.ids import DataNeed
from optimizer.guide.targets import Target
from optimizer.recommendation.decide import AccuracyPriority, Answers, Effort, SizeReduction

#: The run's answer flags' dests -> the ``Answers`` field each sets.
ANSWER_FIELDS = {"optimize": "optimize", "data_kind": "data", "can_retrain": "can_retrain",
                 "size_goal": "size_goal", "effort": "effort", "accuracy": "accuracy"}
GOAL_DESTS = ("target", "max_accuracy_drop", "relative", "max_size_bytes", "max_size_ratio",
              "max_latency_ms", "size_measure", "mcu_ram_kb", "mcu_flash_kb", "must_be_ready")


def _values(enum_cls) -> list[str]:
    return [e.value for e in enum_cls]


def add_request_option(p, file_name: str) -> None:
    """``--request FILE``: the whole request from a JSON file (e.g. a folder's ``file_name``)."""
    p.add_argument("--request", metavar="FILE",
                   help=f"read the whole request from a JSON file (a run or search folder's "
                        f"{file_name}, or one you wrote with the same keys); flags that set "
                        f"request fields are refused beside it")


def add_goal_options(p) -> None:
    """The goals: the same flags (and request keys) for ``run`` and ``search``."""
    p.add_argument("--target", metavar="T", default=None,
                   help=f"target hardware: {', '.join(_values(Target))}")
    p.add_argument("--max-accuracy-drop", type=float, metavar="X", default=None,
                   help="largest acceptable drop in the metric's units (0.01 = 1 point)")
    p.add_argument("--relative", action="store_true", default=None,
                   help="the drop is a fraction of the baseline's value (0.01 = 1%%)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--max-size-bytes", type=int, metavar="N", default=None,
                      help="largest acceptable size")
    size.add_argument("--max-size-ratio", type=float, metavar="R", default=None,
                      help="largest size as a fraction of the float32 baseline (0.25 = 4x)")
    p.add_argument("--size-measure", choices=SIZE_MEASURES, default=None,
                   help="sizes as bytes on disk (raw, the default) or gzip -9 (download size)")
    p.add_argument("--max-latency-ms", type=float, metavar="L", default=None,
                   help="largest median latency per inference, in ms")
    p.add_argument("--mcu-ram-kb", type=int, metavar="N", default=None,
                   help="microcontroller RAM for the tensor arena, kB (target mcu)")
    p.add_argument("--mcu-flash-kb", type=int, metavar="N", default=None,
                   help="microcontroller flash for the model, kB (target mcu)")
    p.add_argument("--must-be-ready", action=argparse.BooleanOptionalAction, default=None,
                   help="count only results whose readiness check for the target says ready "
                        "(default: on for every target but cpu)")


def add_answer_options(p) -> None:
    """The decision tree's answers (``recommend``'s names; ``--data-kind`` because ``--data``
    is the data file). Any of them, or ``--target``, makes the run record answers; the ones
    not given take ``recommend``'s defaults."""
    p.add_argument("--data-kind", choices=_values(DataNeed), default=None,
                   help="the data you have, as recommend's --data asks: none, unlabelled or "
                        "labelled (default: none)")
    p.add_argument("--retrain", dest="can_retrain", action=argparse.BooleanOptionalAction,
                   default=None, help="whether you can afford to retrain (default: --retrain)")
    p.add_argument("--size-goal", choices=_values(SizeReduction), default=None,
                   help="about 2x smaller is enough, or as small as possible (default: 4x)")
    p.add_argument("--effort", choices=_values(Effort), default=None,
                   help="quickest path or the best result (default: quick)")
    p.add_argument("--accuracy", choices=_values(AccuracyPriority), default=None,
                   help="accuracy priority: standard or high (default: standard)")
    p.add_argument("--no-optimize", dest="optimize", action="store_const", const=False,
                   default=None, help="the tree's 'Optimize model?' answered no")


def given_fields(args, dests) -> dict:
    """``{dest: value}`` for every flag in ``dests`` the user gave (lists only when non-empty);
    ``--set key=@FILE`` pairs carry the file's JSON (``setting_from_file``)."""
    out = {}
    for dest in dests:
        value = getattr(args, dest, None)
        if value is not None and value != []:
            out[dest] = tuple(setting_from_file(v) for v in value) if dest == "settings" \
                else value
    return out


#: The largest JSON file a ``--set key=@FILE`` value may name (a per-layer plan is small).
SETTING_FILE_MAX_BYTES = 1_000_000


def setting_from_file(pair: str) -> str:
    """``key=@FILE`` -> ``key=<FILE's JSON, compact>`` (e.g. ``--set mixed.plan=@plan.json``);
    other pairs unchanged. ``ValueError`` names an unreadable, oversized or non-JSON file."""
    key, sep, value = str(pair).partition("=")
    if not sep or not value.startswith("@"):
        return str(pair)
    path = Path(value[1:]).expanduser()
    flag = f"{key} @{path}" if key.startswith("--") else f"--set {key}=@{path}"
    try:
        if path.stat().st_size > SETTING_FILE_MAX_BYTES:
            raise ValueError(f"{flag}: the file is larger than "
                             f"{numbers.count(SETTING_FILE_MAX_BYTES)} bytes; give a small JSON "
                             "file")
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"{flag}: cannot read the file ({exc.strerror or exc}); "
                         "give the path of a JSON file") from None
    except ValueError as exc:
        if str(exc).startswith(flag):
            raise
        raise ValueError(f"{flag}: the file is not JSON ({exc}); write the value "
                         "as JSON") from None
    return f"{key}={json.dumps(data, sort_keys=True, separators=(',', ':'))}"


def answers_from_flags(args) -> Answers | None:
    """The ``Answers`` the answer flags (and ``--target``) give, None when none was given."""
    given = given_fields(args, ANSWER_FIELDS)
    target = getattr(args, "target", None)
    if not given and target is None:
        return None
    kwargs = {ANSWER_FIELDS[dest]: value for dest, value in given.items()}
    if target is not None:
        kwargs["target"] = target
    return Answers(**kwargs)


#: Flags whose name is not their dest with dashes.
_FLAG_NAMES = {"settings": "--set", "time_budget_s": "--time-budget", "can_retrain": "--retrain",
               "techniques": "--technique",
               "optimize": "--no-optimize"}


def flag_name(dest: str) -> str:
    """The flag a user types for ``dest`` (``max_accuracy_drop`` -> ``--max-accuracy-drop``)."""
    return _FLAG_NAMES.get(dest, "--" + dest.replace("_", "-"))


def read_request(cls, path: str, given: dict):
    """``cls.from_dict`` of the JSON file at ``path``; ``UsageError`` naming the file and the
    fix when it is missing, not JSON, not a request, or flags beside it set request fields."""
    if given:
        flags = ", ".join(flag_name(d) for d in given)
        raise UsageError(f"--request {path} already holds the whole request; drop {flags} "
                         f"(or change the file)")
    file = Path(path).expanduser()
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise UsageError(f"request file {path} not found; pass a run folder's request.json or "
                         f"a search folder's search.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"request file {path} is not readable JSON ({type(exc).__name__}); "
                         f"pass a request.json or search.json") from None
    try:
        return cls.from_dict(data)
    except ValueError as exc:
        raise UsageError(f"request file {file.name}: {exc}") from None

"""``python -m optimizer recommend``: the guide's decision tree from the command line.

``--data {none,unlabelled,labelled} [--retrain|--no-retrain] --target T --size-goal {2x,4x}
--effort {quick,thorough} --accuracy {standard,high} [--no-optimize] [--json FILE|-]``.
With ``--json`` it prints ``Recommendation.to_dict()``: ``technique`` (an id or null), ``path``
(``[{"question", "answer"}, ..]``), ``alternatives``, ``excluded`` (``[{"technique",
"reason"}, ..]``) plus explanatory keys. Without it, a readable summary. Exit status 0 whenever
the answers were valid (also when nothing is runnable: that is an answer); 2 with a one-line
message on bad flags.
"""
from __future__ import annotations

import argparse
import textwrap

from optimizer.cli.output import write_json
from optimizer.guide.registry import DataNeed
from optimizer.guide.targets import TARGET_LABELS, Target
from optimizer.recommendation.decide import (
    AccuracyPriority,
    Answers,
    Effort,
    Recommendation,
    SizeReduction,
    recommend,
)

_DEFAULTS = Answers()


def _choices(enum_cls) -> list[str]:
    return [e.value for e in enum_cls]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "recommend", help="recommend a technique from the guide's decision tree",
        description="Walk the LiteRT guide's quantization decision tree with your answers, "
                    "apply the target hardware's limits, and say why every other technique "
                    "was not chosen.")
    p.add_argument("--data", choices=_choices(DataNeed), default=_DEFAULTS.data.value,
                   help="the data you have: none, a few hundred unlabelled representative "
                        "samples, or labelled training data (default: %(default)s)")
    p.add_argument("--retrain", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.can_retrain,
                   help="whether you can afford to retrain (fine-tune) the model; counts only "
                        "with --data labelled (default: --retrain)")
    p.add_argument("--target", choices=_choices(Target), default=_DEFAULTS.target.value,
                   help="target hardware: cpu, gpu (desktop GPU delegate), gpu-android, "
                        "edgetpu, mcu (microcontroller) (default: %(default)s)")
    p.add_argument("--size-goal", choices=_choices(SizeReduction),
                   default=_DEFAULTS.size_goal.value,
                   help="about 2x smaller is enough, or as small as possible (about 4x) "
                        "(default: %(default)s)")
    p.add_argument("--effort", choices=_choices(Effort), default=_DEFAULTS.effort.value,
                   help="quickest path, or more effort for the best result "
                        "(default: %(default)s)")
    p.add_argument("--accuracy", choices=_choices(AccuracyPriority),
                   default=_DEFAULTS.accuracy.value,
                   help="accuracy priority: standard or high (default: %(default)s)")
    p.add_argument("--no-optimize", dest="optimize", action="store_false",
                   help="just convert to a float TFLite model (the tree's 'Optimize model?' = N)")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the recommendation as JSON to FILE (or - for stdout)")
    p.set_defaults(func=run)


def answers_from_args(args) -> Answers:
    """The ``Answers`` the flags describe (ValueError names the fix on a bad value)."""
    return Answers(optimize=args.optimize, data=args.data, can_retrain=args.retrain,
                   target=args.target, size_goal=args.size_goal, effort=args.effort,
                   accuracy=args.accuracy)


def run(args) -> int:
    rec = recommend(answers_from_args(args))
    if args.json is not None:
        write_json(rec.to_dict(), args.json)
    else:
        print(summary(rec))
    return 0


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent + "- ",
                         subsequent_indent=indent + "  ")


def summary(rec: Recommendation) -> str:
    """A readable, plain-text account of a recommendation (what the CLI prints)."""
    target = TARGET_LABELS[rec.answers.target]
    if rec.run_spec:
        head = f"Recommendation for {target}: {rec.run_spec}"
    else:
        head = f"Recommendation for {target}: nothing runnable with your data"
    lines = [head, "", "Decision tree path:"]
    lines += [f"  {s.node} {s.question} {s.answer}  ({s.because})" for s in rec.path]
    lines.append(f"  -> {rec.leaf}")
    lines += ["", "Why:"] + [_wrap(r) for r in rec.reasons]
    if rec.unlock:
        lines += ["", "What would unlock it:"] + [_wrap(u.text) for u in rec.unlock]
    if rec.notes:
        lines += ["", "Notes:"] + [_wrap(n) for n in rec.notes]
    if rec.alternatives:
        lines += ["", "Alternatives to run for comparison: " + ", ".join(rec.alternatives)]
    width = max(len(e.technique.value) for e in rec.excluded) if rec.excluded else 0
    lines += ["", "Not chosen:"]
    lines += [textwrap.fill(e.reason, width=100, initial_indent=f"  {e.technique.value:<{width}}  ",
                            subsequent_indent=" " * (width + 4)) for e in rec.excluded]
    return "\n".join(lines)

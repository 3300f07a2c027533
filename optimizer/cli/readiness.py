"""``python -m optimizer readiness --model FILE.tflite --target T [--soc NAME] [--data PATH]
[--mcu-ram-kb N] [--mcu-flash-kb N] [--json -]``: will this file run on that hardware?

Runs the target's readiness check (``optimizer.measuring.readiness``) and prints its verdict;
with ``--json`` exactly ``Readiness.to_dict()``. Exit 0 when the check ran, whatever the
verdict; 2 with one line on unusable input (or an optional check whose setup is missing).
"""
from __future__ import annotations

from pathlib import Path

from optimizer.cli import UsageError
from optimizer.cli.output import write_json
from optimizer.guide.targets import TARGETS, Target

NPU_TARGETS = (Target.NPU_QUALCOMM, Target.NPU_INTEL)


def add_parser(sub) -> None:
    p = sub.add_parser("readiness", help="check whether a .tflite runs on a target: TFLite Micro, "
                                          "NPU compilers, Edge TPU / GPU rules")
    p.add_argument("--model", required=True, metavar="FILE.tflite", help="the .tflite to check")
    p.add_argument("--target", required=True, choices=[t.value for t in Target],
                   help="the hardware: " + "; ".join(f"{t.value}: {i.label} ({i.readiness})"
                                                     for t, i in TARGETS.items()))
    p.add_argument("--soc", metavar="NAME",
                   help="the SoC to compile for: a Snapdragon for npu-qualcomm (default SM8650), "
                        "an Intel SoC for npu-intel (default LNL)")
    p.add_argument("--data", metavar="PATH",
                   help="a demo name or an .npz with x_test (and y_test): mcu also measures "
                        "the metric through TFLite Micro next to LiteRT's")
    p.add_argument("--mcu-ram-kb", type=int, metavar="N",
                   help="microcontroller RAM for the tensor arena, kB (1 kB = 1024 bytes)")
    p.add_argument("--mcu-flash-kb", type=int, metavar="N",
                   help="microcontroller flash for the model, kB")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the verdict as JSON to FILE (or - for stdout)")
    p.add_argument("--messages", action="store_true",
                   help="with --json: add the summary's and reasons' message ids and values "
                        "(how the app writes them in its reader's language)")
    p.set_defaults(func=run)


def mcu_budget(ram_kb, flash_kb):
    """A ``McuBudget`` from the two flags, or None when neither is given."""
    from optimizer.guide.goals import McuBudget

    if ram_kb is None and flash_kb is None:
        return None
    return McuBudget(ram_kb=ram_kb, flash_kb=flash_kb)


def load_data(ref: str):
    """A ``Dataset`` from a demo name or an ``.npz`` path (never unpickling)."""
    from optimizer.models.demos import demo_names

    if ref in demo_names():
        from optimizer.models.demos.datasets import load_dataset

        return load_dataset(ref)
    path = Path(ref).expanduser()
    if path.suffix.lower() != ".npz":
        raise UsageError(f"--data {ref}: give a demo name ({', '.join(demo_names())}) or an "
                         f".npz with x_test and y_test")
    if not path.is_file():
        raise UsageError(f"--data {ref}: no such file; check the path")
    from optimizer.models.resolve import load_npz

    return load_npz(path)


def run(args) -> int:
    from optimizer.measuring.readiness import check_readiness

    model = Path(args.model).expanduser()
    if not model.is_file():
        raise UsageError(f"no file at {args.model}; give the path of a .tflite")
    target = Target(args.target)
    budget = mcu_budget(args.mcu_ram_kb, args.mcu_flash_kb)
    if budget is not None and target != Target.MCU:
        raise UsageError("--mcu-ram-kb / --mcu-flash-kb apply to --target mcu only")
    if args.soc and target not in NPU_TARGETS:
        raise UsageError("--soc applies to --target npu-qualcomm or npu-intel only")
    dataset = load_data(args.data) if args.data else None
    result = check_readiness(model, target, soc=args.soc, dataset=dataset, budget=budget)
    if args.json is not None:
        write_json(result.to_dict(messages=args.messages), args.json)
        return 0
    print(f"{TARGETS[target].label}: {result.label}")
    print(result.summary)
    for op in result.ops:
        reason = f"  {op.reason}" if op.reason else ""
        print(f"  {op.op:<28} x{op.count:<4} {op.where:<12}{reason}")
    if result.memory:
        print(f"memory: {result.memory}")
    if result.accuracy:
        print(f"accuracy: {result.accuracy}")
    return 0

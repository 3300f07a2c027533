"""``python -m optimizer.models.demos.train [--model NAME ...] [--all]``: regenerate the demos' weights.

For each demo it trains the architecture from scratch with the spec's ``TrainingRecipe``
(seeded, deterministic TensorFlow ops), measures the Keras test accuracy, and writes
``assets/demos/<name>.weights.h5`` (tf_keras ``save_weights``, HDF5, no pickle) plus
``assets/demos/<name>.json``, the training record (recipe, seconds, accuracy, versions, date).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from optimizer.models.demos import demo_names, get_demo
from optimizer.models.demos.spec import DEMO_ASSETS, DemoSpec

_LIBRARIES = ("tensorflow", "tf-keras", "tensorflow-model-optimization", "numpy", "scikit-learn",
              "h5py")


def _versions() -> dict:
    found = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _seed_everything(seed: int) -> None:
    from optimizer import compat

    compat.keras().utils.set_random_seed(seed)  # Python, NumPy and TensorFlow generators
    # Deterministic kernels make a rerun on the same machine reproduce the same weights.
    compat.tf().config.experimental.enable_op_determinism()


def _learning_rate(recipe, train_size: int):
    if recipe.schedule == "constant":
        return recipe.learning_rate
    from optimizer import compat

    steps = -(-train_size // recipe.batch_size) * recipe.epochs
    return compat.keras().optimizers.schedules.CosineDecay(recipe.learning_rate, steps)


def train_demo(spec: DemoSpec, out_dir: Path = DEMO_ASSETS, verbose: int = 2) -> dict:
    """Train ``spec`` from scratch, save its weights and training record in ``out_dir``.

    Returns the record (also written as ``<out_dir>/<name>.json``). Needs TensorFlow; the
    MobileNetV2 demo takes a few minutes on two CPU cores, the others seconds. Switches on
    TensorFlow's op determinism for the whole process, so run it in its own process.
    """
    from optimizer.models.demos.builders import (
        build_architecture,
        compile_model,
        save_layer_weights,
    )

    started, load = time.perf_counter(), os.getloadavg()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    recipe = spec.training
    data = spec.dataset()
    _seed_everything(recipe.seed)
    model = compile_model(build_architecture(spec), _learning_rate(recipe, len(data.x_train)))
    fit_start = time.perf_counter()
    history = model.fit(data.x_train, data.y_train, epochs=recipe.epochs,
                        batch_size=recipe.batch_size, shuffle=True, verbose=verbose)
    train_seconds = time.perf_counter() - fit_start
    test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=64, verbose=0)

    weights = out_dir / f"{spec.name}.weights.h5"
    # Write beside the target and rename, so a crash never leaves a half-written weights file.
    # The name must end in ".weights.h5": tf_keras picks the (name-independent) weights-only
    # format from that suffix, and load_weights picks the reader the same way.
    partial = weights.with_name(f"{spec.name}.partial.weights.h5")
    save_layer_weights(model, spec, partial)
    partial.replace(weights)
    record = {
        "demo": spec.name,
        "training": asdict(recipe),
        "optimizer": "Adam",
        "loss": "sparse_categorical_crossentropy",
        "split": {**data.sizes(), "test_fraction": 0.25, "stratified": True, "split_seed": 0},
        "params": int(model.count_params()),
        "train_seconds": round(train_seconds, 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "final_train_accuracy": round(float(history.history["accuracy"][-1]), 4),
        "test_loss": round(float(test_loss), 4),
        "test_accuracy": round(float(test_accuracy), 4),
        "measured_with": "tf_keras Model.evaluate on the float model (not a .tflite)",
        "host": {"platform": platform.platform(), "cpus": os.cpu_count(),
                 # Other work on the machine slows training: the load says how busy it was.
                 "load_average_at_start": [round(v, 2) for v in load],
                 "load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
        "versions": _versions(),
        "weights_file": weights.name,
        "weights_bytes": weights.stat().st_size,
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": f"python -m optimizer.models.demos.train --model {spec.name}",
    }
    (out_dir / f"{spec.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m optimizer.models.demos.train",
                                     description="Retrain the built-in demos and rewrite "
                                                 "their weights and training records.")
    parser.add_argument("--model", action="append", default=[], metavar="NAME",
                        help=f"demo to train (repeatable): {', '.join(demo_names())}")
    parser.add_argument("--all", action="store_true", help="train every demo")
    parser.add_argument("--cards-only", action="store_true",
                        help="only rewrite the precomputed model cards (assets/demos/"
                             "<name>.card.json) from the current weights")
    parser.add_argument("--out", type=Path, default=DEMO_ASSETS,
                        help="folder for the weights and records (default: assets/demos)")
    return parser


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    names = demo_names() if args.all else args.model
    if not names:
        print("error: name a demo with --model NAME or use --all", file=sys.stderr)
        return 2
    try:
        specs = [get_demo(name) for name in names]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from optimizer.models.cards import write_shipped_card

    for spec in specs:
        if not args.cards_only:
            print(f"training {spec.name} ({spec.training.epochs} epochs)...", file=sys.stderr)
            record = train_demo(spec, args.out)
            print(f"{spec.name}: test accuracy {record['test_accuracy']:.4f}, "
                  f"{record['train_seconds']} s training, {record['weights_bytes']:,} B weights")
        # the Model page shows this card at once instead of starting TensorFlow
        card = write_shipped_card(spec.name)
        print(f"{spec.name}: model card written ({card.get('params')} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

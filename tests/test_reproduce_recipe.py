"""The reproduce script is written from the run's own recipe.json: the fine-tuning the run
used (``--set finetune.*`` overrides included), the loss it fine-tuned with (a regression model
gets MSE) and its knobs; and it runs, leaving float what TFMOT cannot quantize (Rescaling), as
the app does. A real run's retraining job (the worker's code path, in this process; every
retraining form of the CLI's technique matrix is checked the same way in
``tests/test_cli_run.py``), then its script executed.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from optimizer.report.reproduce import read_recipe, reproduce_from_recipe

pytestmark = [pytest.mark.slow, pytest.mark.cost(60)]


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    """A tiny regression model that starts with a Rescaling layer (TFMOT cannot quantize it),
    its .npz (``task`` = regression), and the QAT job of a run of it with ``--set
    finetune.epochs=3``."""
    from optimizer import compat
    from optimizer.engine.pipeline import run_job
    from optimizer.runs.orchestrate import plan_jobs
    from optimizer.runs.request import RunRequest

    folder = tmp_path_factory.mktemp("regression")
    keras = compat.keras()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(240, 8)).astype(np.float32)
    y = (x @ rng.normal(size=(8, 1)).astype(np.float32) / 255.0).astype(np.float32)
    model = keras.Sequential([keras.layers.InputLayer(input_shape=(8,)),
                              keras.layers.Rescaling(1 / 255.0, name="rescaling"),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1)], name="tiny_regression")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x[:180], y[:180], epochs=20, verbose=0)
    model.save(folder / "model.h5", include_optimizer=False)
    np.savez(folder / "data.npz", x_train=x[:180], y_train=y[:180], x_test=x[180:],
             y_test=y[180:], task=np.array("regression"))
    request = RunRequest(model=str(folder / "model.h5"), data=str(folder / "data.npz"),
                         techniques=["qat"], settings=("finetune.epochs=3",))
    (job,) = [j for j in plan_jobs(request, folder / "run", folder / "events.jsonl")
              if "qat" in j.specs]
    (result,) = run_job(job)
    return folder, result


def test_a_regression_runs_script_uses_its_loss_and_leaves_rescaling_float(regression,
                                                                          tmp_path):
    folder, result = regression
    assert result.ok, result.error
    assert any("rescaling" in note for note in result.notes)     # the app left it float
    recipe = read_recipe(result.recipe_path)
    assert recipe["task"] == "regression" and recipe["loss"] == {"qat": "mean_squared_error"}
    script = reproduce_from_recipe(recipe)
    assert "LOSS = keras.losses.MeanSquaredError()" in script and "loss_for" not in script
    assert "fine_tune(model, epochs=3," in script
    assert 'y_train = y_train.astype("float32")' in script

    (tmp_path / "reproduce.py").write_text(script)
    for name in ("model.h5", "data.npz"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    run = subprocess.run([sys.executable, "reproduce.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "left float (quantized by the converter from representative data): rescaling" \
        in run.stdout
    assert "Epoch 3/3" in run.stdout and "mae" in run.stdout       # MSE fit, three epochs
    assert "wrote model.tflite" in run.stdout

    from optimizer.measuring.facts import tflite_facts

    facts = tflite_facts((tmp_path / "model.tflite").read_bytes())
    assert "FULLY_CONNECTED" in facts.ops and "int8" in facts.weight_dtypes

"""Shared fixtures: a tiny labelled dataset and a tiny trained tf_keras CNN.

Tests that need TensorFlow build on these (seconds, not minutes); the demos' MobileNetV2 is
exercised by the benchmark, not the tests. Area-specific fixtures live in the test modules
or in a sub-folder's own conftest (e.g. ``tests/browser/conftest.py``).
"""
from __future__ import annotations

import numpy as np
import pytest

from optimizer.models.dataset import Dataset


@pytest.fixture(scope="session", autouse=True)
def _private_workspace(tmp_path_factory):
    """Every test session writes runs and caches to its own folder, never ./workspace."""
    import os

    path = tmp_path_factory.mktemp("workspace")
    old = os.environ.get("OPTIMIZER_WORKSPACE")
    os.environ["OPTIMIZER_WORKSPACE"] = str(path)
    # Warm job processes wait 5 minutes for the next job: with 60 s, this worker's own and
    # browser workspaces started theirs 27 times in one run (a TensorFlow import each) where
    # 6 would do; all of them end with the session (below). They prepare only what every job
    # needs: most of the suite's ~50 warm processes serve at most two jobs, so TFMOT, the
    # Quantizer and AutoGraph's conversions made in each (~5 CPU-s) cost the CPU-bound suite
    # more than they save. tests/test_warm_runs.py tests that preparation itself.
    os.environ.setdefault("OPTIMIZER_WARM_IDLE_S", "300")
    os.environ.setdefault("OPTIMIZER_WARM_PRELOAD", "0")
    yield path
    from optimizer.runs.warm import stop_all

    stop_all()   # this session's warm job processes (TensorFlow imported) end with it
    _stop_warm_processes_under(tmp_path_factory.getbasetemp())
    if old is None:
        os.environ.pop("OPTIMIZER_WORKSPACE", None)
    else:
        os.environ["OPTIMIZER_WORKSPACE"] = old


def _stop_warm_processes_under(folder) -> None:
    """End the warm job processes of every workspace the tests made under ``folder``."""
    import os
    import signal
    from pathlib import Path

    from optimizer.runs import warm

    for lock in Path(folder).glob("**/slots/warm-*.lock"):
        info = warm.status(warm.Place(lock.with_suffix(".sock"), lock, lock.with_suffix(".log")))
        try:
            if info and info.get("pid"):
                os.kill(int(info["pid"]), signal.SIGTERM)
        except (OSError, ValueError, TypeError):
            pass


def _digits_dataset() -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, stratify=y, random_state=0)
    return Dataset(name="tiny-digits", x_train=x_train, y_train=y_train, x_test=x_test,
                   y_test=y_test, x_rep=x_train[:200], num_classes=10,
                   class_names=tuple(str(i) for i in range(10)))


@pytest.fixture(scope="session")
def tiny_dataset() -> Dataset:
    """scikit-learn's 8x8 digits: 1,347 train / 450 test, labels 0-9, offline."""
    return _digits_dataset()


@pytest.fixture(scope="session")
def tiny_model(tiny_dataset):
    """A small tf_keras CNN (Conv-BN-ReLU, pooling, Dense) trained for a few epochs.

    Treat it as read-only: transforms must return new models, never mutate their input.
    """
    from optimizer import compat

    keras = compat.keras()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.InputLayer(input_shape=(8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ], name="tiny_cnn")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(tiny_dataset.x_train, tiny_dataset.y_train, epochs=8, batch_size=32, verbose=0)
    return model


#: Rough seconds of a scope (see ``_scope_cost``) without a ``cost`` mark: a slow test
#: (TensorFlow in-process or in a subprocess) and a fast one.
SLOW_TEST_COST, FAST_TEST_COST = 2.0, 0.3


def _xdist_scope(item) -> str:
    """The unit ``--dist loadscope`` sends to one worker: the test's class, else its module."""
    return item.nodeid.rsplit("::", 1)[0]


def _scope_cost(items) -> float:
    """Rough seconds a scope takes: its ``@pytest.mark.cost(seconds)`` (on the modules and
    classes that take longest, as measured in a ``make test`` run; only the order they give
    matters), else a sum per test."""
    marked = [m.args[0] for item in items if (m := item.get_closest_marker("cost"))]
    if marked:
        return float(max(marked))
    return sum(SLOW_TEST_COST if item.get_closest_marker("slow") else FAST_TEST_COST
               for item in items)


def pytest_configure(config):
    # xdist's loadscope otherwise reorders scopes by their number of tests, which put the long
    # single-test classes (one CLI run each) last, as a tail; keep the order set below instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """Run the costliest units first: with parallel workers (``make test``, ``--dist
    loadscope``) the long ones then start at once and the short ones fill in at the end,
    instead of a long one forming a tail. A scope's tests stay together, in their order."""
    scopes: dict[str, list] = {}
    for item in items:
        scopes.setdefault(_xdist_scope(item), []).append(item)
    ordered = sorted(scopes.values(), key=_scope_cost, reverse=True)   # stable for ties
    items[:] = [item for scope in ordered for item in scope]

"""Varied user models, saved as tf_keras and as Keras 3 files, through the real CLI.

For each architecture (Conv1D, depthwise-separable, residual Add + BatchNorm, global average
pooling, MLP on a CSV, LSTM+GRU) in both formats, ``python -m optimizer run --model FILE
--data FILE --technique ...`` must give ``status: ok`` for every applicable technique and, for
the inapplicable ones, a result that says why (QAT, pruning and clustering run on
each architecture's Keras 3 file, every conversion on both files). The float32 baseline
must score exactly what the user's own model scores on the same test split (for Keras 3
files: the ORIGINAL Keras 3 model, so the tf_keras rebuild is proven honest end to end).
Also: a Keras 3 model with a layer tf_keras lacks (post-training only, the blocker named), a
float .tflite and a zipped SavedModel (post-training only), and the collaborative techniques
on a rebuilt Keras 3 model. One fine-tune epoch keeps it affordable; every test here is slow
(TensorFlow, subprocesses).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from uploads_models import (
    ARCHITECTURES,
    DATA_OF,
    UPLOAD_AS,
    build,
    table,
    train,
    waves,
    write_csv,
    write_image_zip,
    write_npz,
)

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PTQ = ["float16", "dynamic_range", "integer", "integer_only", "int16x8"]
TRAINING = ["qat", "pruning", "clustering"]
COLLABORATIVE = ["pqat", "cqat", "pcqat", "pruning+clustering"]
#: Measured: what does not apply to an architecture, and the words its result must say.
NOT_APPLICABLE = {
    # QAT leaves Conv1D and the recurrent layers float (the converter quantizes what it can)
    "rnn": {"qat": ("not applicable", "quantization-aware training cannot quantize layer",
                    "(LSTM)"),
            # the recurrent layers stay a WHILE loop; calibrating it crashes TF 2.21
            **{spec: ("not applicable", "WHILE op", "dynamic_range")
               for spec in ("integer", "integer_only", "int16x8")}},
}


class _Lazy(dict):
    """A dict that builds a missing entry on first use (and keeps it)."""

    def __init__(self, make):
        super().__init__()
        self._make = make

    def __missing__(self, key):
        value = self[key] = self._make(key)
        return value


@pytest.fixture(scope="session")
def zoo(tmp_path_factory, tiny_dataset):
    """Every architecture in tf_keras and in Keras 3, trained, saved, with its data file.

    Built lazily: a test (on whichever test worker runs it) trains only the models it uses,
    each with its own seed, so the matrix spreads over parallel workers.
    """
    from optimizer import compat

    folder = tmp_path_factory.mktemp("zoo")
    xw, yw = waves()
    xt, names = table()
    data = {"digits": (tiny_dataset.x_train, tiny_dataset.y_train, tiny_dataset.x_test,
                       tiny_dataset.y_test),
            "waves": (xw[:450], yw[:450], xw[450:], yw[450:])}
    species = {n: i for i, n in enumerate(sorted(set(names)))}
    y_table = np.array([species[n] for n in names])
    writers = {
        "digits.npz": lambda path: write_npz(path, *data["digits"]),
        "waves.npz": lambda path: write_npz(path, *data["waves"]),
        "digits.zip": lambda path: write_image_zip(
            path, np.concatenate([data["digits"][0], data["digits"][2]]),
            np.concatenate([data["digits"][1], data["digits"][3]])),
        "table.csv": lambda path: write_csv(path, xt, names)}

    def make_file(name):
        return writers[name](folder / name)

    def make_model(key):
        arch, flavor = key
        keras = compat.keras() if flavor == "tf_keras" else compat.keras3()
        keras.utils.set_random_seed(zlib.crc32(f"{arch}-{flavor}".encode()) % 2**31)
        source = DATA_OF.get(arch, "digits")
        x, y = (xt, y_table) if source == "table" else data[source][:2]
        model = train(build(keras, arch), keras, x, y)
        suffix = ".h5" if flavor == "tf_keras" and arch in ("conv1d", "resnet") else ".keras"
        path = folder / f"{arch}-{flavor}{suffix}"
        model.save(path)
        return path, model

    return {"folder": folder, "files": _Lazy(make_file), "models": _Lazy(make_model)}


def _data_file(zoo, arch: str) -> Path:
    kind = UPLOAD_AS.get(arch, "npz")
    source = DATA_OF.get(arch, "digits")
    return zoo["files"][{"npz": f"{source}.npz", "images": "digits.zip",
                         "csv": "table.csv"}[kind]]


def _run(model: Path, data: Path, out: Path, techniques, *extra) -> dict:
    args = [sys.executable, "-m", "optimizer", "run", "--model", str(model), "--data", str(data),
            "--set", "finetune.epochs=1", "--out", str(out), "--json", "-", *extra]
    for spec in techniques:
        args += ["--technique", spec]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=1500, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    return {r["technique"]: r for r in doc["results"]}


def _prepared_test_split(out: Path):
    with np.load(out / "upload" / "data.npz", allow_pickle=False) as npz:
        return npz["x_test"], npz["y_test"]


def _summary(label: str, results: dict, manifest: dict) -> str:
    bridge = manifest.get("bridge") or {}
    diff = f" rebuild max|diff|={bridge['max_abs_diff']:.2e}" if "max_abs_diff" in bridge else ""
    cells = [f"{t}={r['status']}" + (f"({100 * r['accuracy']:.1f}%)" if r["accuracy"] is not None
                                     and r["metric"] == "accuracy" else "")
             for t, r in results.items()]
    return f"[{label}]{diff} " + " ".join(cells)


#: Rough seconds of each architecture's class in ``make test`` (the ``cost`` mark: the longest
#: units of parallel work start first).
COST = {"rnn": 85, "resnet": 75, "conv1d": 70, "dwsep": 70, "gap": 70, "mlp": 60}


class _EveryTechnique:
    """One CLI run of every technique on one (architecture, format), shared by the class's
    tests; one class per pair is a unit of its own for parallel test workers (``--dist
    loadscope``), which then train only the model they test."""

    ARCH: str
    FLAVOR: str

    @property
    def TECHNIQUES(self):  # noqa: N802 - the class constant the resnet/keras3 class overrides
        """The training techniques once per architecture: on the Keras 3 file, whose rebuilt
        tf_keras model has the same layer classes TFMOT wraps as the tf_keras file (each is
        one more job per run; the suite is CPU-bound). Every conversion runs on both files."""
        return PTQ + (TRAINING if self.FLAVOR == "keras3" else [])

    @pytest.fixture(scope="class")
    def run(self, zoo, tmp_path_factory):
        model_path, original = zoo["models"][(self.ARCH, self.FLAVOR)]
        out = tmp_path_factory.mktemp(f"{self.ARCH}-{self.FLAVOR}") / "run"
        extra = ("--label-column", "species") if UPLOAD_AS.get(self.ARCH) == "csv" else ()
        results = _run(model_path, _data_file(zoo, self.ARCH), out, self.TECHNIQUES, *extra)
        manifest = json.loads((out / "upload" / "upload.json").read_text())
        print(_summary(f"{self.ARCH}/{self.FLAVOR}", results, manifest))
        return results, manifest, out, original

    def test_every_applicable_technique_runs(self, run):
        arch, flavor = self.ARCH, self.FLAVOR
        results, manifest, out, original = run
        expected = NOT_APPLICABLE.get(arch, {})
        for spec, r in results.items():
            if spec in expected:
                assert r["status"] in ("skipped", "error"), (spec, r)
                for words in expected[spec]:
                    assert words in r["error"], (spec, r["error"])
                continue
            assert r["status"] == "ok", (arch, flavor, spec, r["error"])
        # The float32 file scores what the user's own model scores on the same test split.
        x_test, y_test = _prepared_test_split(out)
        own = float(np.mean(np.argmax(original.predict(x_test, verbose=0), axis=1) == y_test))
        assert results["float32"]["accuracy"] == pytest.approx(own, abs=1.5 / len(y_test))
        assert results["float32"]["accuracy"] > 0.5, "the test model should have learned something"
        for spec in ("float16", "dynamic_range", "integer"):
            if spec not in expected:
                assert abs(results[spec]["accuracy_delta"]["value"]) <= 0.05, (spec,
                                                                             results[spec])
        if flavor == "keras3":
            assert manifest["flavor"] == "keras3" and manifest["source"] == "keras"
            assert manifest["bridge"]["max_abs_diff"] <= manifest["bridge"]["tolerance"]
        if arch == "rnn":
            assert any("fixed batch size of 1" in n for n in results["float32"]["notes"])


def _matrix_class(arch: str, flavor: str):
    name = f"TestEveryTechnique_{arch}_{flavor}"
    return pytest.mark.cost(COST[arch])(
        type(name, (_EveryTechnique,), {"ARCH": arch, "FLAVOR": flavor}))


@pytest.mark.cost(180)
class TestEveryTechnique_resnet_keras3(_EveryTechnique):
    """Also the collaborative techniques, in the same CLI run (one upload check, one frozen
    baseline for both tests)."""

    ARCH, FLAVOR = "resnet", "keras3"
    TECHNIQUES = PTQ + TRAINING + COLLABORATIVE

    def test_collaborative_techniques_on_a_rebuilt_keras3_model(self, run):
        results = run[0]
        print(_summary("resnet/keras3 collaborative",
                       {t: results[t] for t in ["float32"] + COLLABORATIVE}, {}))
        for spec in ["float32"] + COLLABORATIVE:
            assert results[spec]["status"] == "ok", (spec, results[spec]["error"])
        assert 0.4 <= results["pruning+clustering"]["sparsity"] <= 0.6
        assert results["cqat"]["max_unique_weights_per_channel"] <= 16


for _arch in ARCHITECTURES:
    for _flavor in ("tf_keras", "keras3"):
        if f"TestEveryTechnique_{_arch}_{_flavor}" not in globals():
            _cls = _matrix_class(_arch, _flavor)
            globals()[_cls.__name__] = _cls


@pytest.mark.cost(30)
class TestKeras3LayerWithoutTf:
    def test_keras3_layer_without_tf_keras_counterpart(self, zoo, tmp_path):
        model_path, original = zoo["models"][("rmsnorm", "keras3")]
        out = tmp_path / "run"
        results = _run(model_path, zoo["files"]["digits.npz"], out, PTQ + TRAINING)
        manifest = json.loads((out / "upload" / "upload.json").read_text())
        print(_summary("rmsnorm/keras3", results, manifest))
        assert manifest["source"] == "saved-model"
        for spec in ["float32"] + PTQ[:3]:
            assert results[spec]["status"] == "ok", (spec, results[spec]["error"])
            assert "from_saved_model" in " ".join(results[spec]["pipeline"]) or spec != "float32"
        for spec in TRAINING:
            error = results[spec]["error"] or ""
            assert results[spec]["status"] == "skipped", (spec, results[spec])
            assert "rms_normalization" in error and "RMSNormalization" in error, error
            assert "SavedModel export" in error
        x_test, y_test = _prepared_test_split(out)
        own = float(np.mean(np.argmax(original.predict(x_test, verbose=0), axis=1) == y_test))
        assert results["float32"]["accuracy"] == pytest.approx(own, abs=1.5 / len(y_test))


@pytest.mark.cost(10)
class TestFloatTfliteUploadQuantizes:
    def test_float_tflite_upload_quantizes_with_the_litert_quantizer(self, zoo, tmp_path):
        from optimizer.engine.convert import convert
        from optimizer.guide.configs import PtqConfig

        _, original = zoo["models"][("gap", "tf_keras")]
        tflite = tmp_path / "gap.tflite"
        tflite.write_bytes(convert(original, PtqConfig.float32()).tflite)
        results = _run(tflite, zoo["files"]["digits.npz"], tmp_path / "run", PTQ + TRAINING)
        print(_summary("gap/.tflite", results, {}))
        assert results["float32"]["engine"] == "uploaded"
        for spec in PTQ:
            assert results[spec]["status"] == "ok", (spec, results[spec]["error"])
            assert results[spec]["engine"] == "litert-quantizer"
        assert results["integer_only"]["input_dtype"] == "int8"
        for spec in TRAINING:
            assert results[spec]["status"] == "skipped"
            assert "a .tflite holds no trainable Keras model" in results[spec]["error"]


@pytest.mark.cost(20)
class TestZippedSavedmodelUploadRuns:
    def test_zipped_savedmodel_upload_runs_post_training(self, zoo, tmp_path):
        _, original = zoo["models"][("resnet", "keras3")]
        export = tmp_path / "exported"
        original.export(str(export), verbose=False)
        archive = shutil.make_archive(str(tmp_path / "resnet_savedmodel"), "zip", export)
        results = _run(Path(archive), zoo["files"]["digits.npz"], tmp_path / "run", PTQ + ["qat"])
        print(_summary("resnet/SavedModel zip", results, {}))
        for spec in ["float32"] + PTQ:
            assert results[spec]["status"] == "ok", (spec, results[spec]["error"])
        assert results["qat"]["status"] == "skipped"
        assert "SavedModel is converted as a graph" in results["qat"]["error"]

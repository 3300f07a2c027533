"""A short standalone Python script that reproduces one technique spec on the user's model.

``reproduce_script`` writes what a user would write by hand: tf_keras, TensorFlow Model
Optimization and ``tf.lite.TFLiteConverter``, public APIs only, with the hyper-parameters the
run used (pruning schedule and mask frequency, clusters and centroid init, fine-tuning epochs,
learning rate and batch size, calibration samples). It reads a tf_keras model file and an
``.npz`` (``x_train``/``y_train`` for retraining; ``x_rep`` or ``x_train`` for calibration)
and writes ``model.tflite``. The script does not depend on this project.

Pure Python: nothing here imports TensorFlow.
"""
from __future__ import annotations

import json

from optimizer.engine.pruning import RAMP_FRACTION
from optimizer.guide.configs import FinetuneConfig, PruningConfig, Settings
from optimizer.guide.registry import TECHNIQUES, TechniqueSpec, parse_spec
from optimizer.guide.technique import StageKind

_INITS = {"kmeans++": "KMEANS_PLUS_PLUS", "linear": "LINEAR", "density": "DENSITY_BASED",
          "random": "RANDOM"}


def reproduce_script(spec: TechniqueSpec | str, settings: Settings,
                     finetune: dict[str, FinetuneConfig], model_path: str = "model.h5",
                     data_path: str = "data.npz", task: str = "classification") -> str:
    """Return the source of a standalone script reproducing ``spec`` and writing model.tflite.

    ``settings`` supplies the pruning, clustering and calibration parameters; ``finetune``
    maps each retraining step kind the spec uses ("pruning", "clustering", "qat") to the
    fine-tuning config the run used (``ValueError`` naming a missing one). ``task`` is
    "classification" (loss chosen from the output layer) or "regression" (MSE).
    """
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    stages = _stages(spec)
    for kind in dict.fromkeys(kind for kind, _ in stages):
        if kind not in finetune:
            raise ValueError(f"reproduce_script needs the fine-tuning config of the '{kind}' "
                             f"step; pass finetune={{'{kind}': FinetuneConfig(...), ...}}")
    calibrate = spec.calibrates
    experimental = any(kind == StageKind.CLUSTERING and (preserve or settings.clustering.per_channel)
                       for kind, preserve in stages)
    blocks = [_header(spec, settings, finetune, stages, model_path, data_path, calibrate),
              _imports(bool(stages), experimental),
              _load(model_path, data_path, bool(stages), calibrate)]
    if stages:
        blocks.append(_finetune_helper(task))
    number = 0
    for kind, preserve in stages:
        number += 1
        config = finetune[kind]
        if kind == StageKind.PRUNING:
            blocks.append(_pruning_block(number, settings.pruning, config))
        elif kind == StageKind.CLUSTERING:
            blocks.append(_clustering_block(number, settings, config, preserve))
        else:
            blocks.append(_qat_block(number, spec.technique, config))
    if calibrate:
        blocks.append(_representative_block(settings.calibration_samples))
    blocks.append(_convert_block(number + 1, spec))
    return "\n\n\n".join(block.strip("\n") for block in blocks) + "\n"


def _stages(spec: TechniqueSpec) -> list[tuple[StageKind, bool]]:
    """``(stage kind, preserve)`` in order; preserve marks sparsity-preserving clustering."""
    return [(stage.kind, stage.kind == StageKind.CLUSTERING and stage.preserve == "sparsity")
            for stage in spec.stages]


def _ft_text(config: FinetuneConfig) -> str:
    return (f"fine-tune {config.epochs} epoch(s), lr {config.learning_rate:g}, "
            f"batch {config.batch_size}")


def _header(spec, settings, finetune, stages, model_path, data_path, calibrate) -> str:
    lines = []
    for kind, preserve in stages:
        config = finetune[kind]
        if kind == StageKind.PRUNING:
            p = settings.pruning
            lines.append(f"magnitude pruning to {p.sparsity:g} sparsity ({p.schedule} schedule, "
                         f"mask update every {p.frequency} steps; {_ft_text(config)}), strip")
        elif kind == StageKind.CLUSTERING:
            c = settings.clustering
            lines.append(f"{'sparsity-preserving ' if preserve else ''}weight clustering, "
                         f"{c.clusters} clusters{' per channel' if c.per_channel else ''}, "
                         f"{c.init} init ({_ft_text(config)}), strip")
        else:
            kept = _preserved(spec.technique)
            lines.append("quantization-aware training" + (f" preserving {kept}" if kept else "")
                         + f" ({_ft_text(config)})")
    if spec.quantization_aware:
        lines.append("int8 conversion" + (" with int8 input and output"
                                          if spec.conversion_options.integer_io
                                          else " (float input and output)"))
    else:
        lines.append(TECHNIQUES[spec.conversion].action + (f" ({settings.calibration_samples} "
                                                    "calibration samples)" if calibrate else ""))
    steps = "\n".join(f"  {i}. {line}" for i, line in enumerate(lines, 1))
    if stages:
        data = f"{data_path} (x_train, y_train: the labelled training split)"
    elif calibrate:
        data = f"{data_path} (x_rep, or else x_train: representative samples)"
    else:
        data = "none"
    tfmot = ", tensorflow-model-optimization 0.8.1" if stages else ""
    return f'''"""Reproduce '{spec.text}' on your model with public APIs.

Generated by LiteRT Optimization Studio. Steps:
{steps}

Needs: tensorflow 2.21, tf-keras 2.21{tfmot}, numpy
Model: {model_path} (saved with tf_keras); data: {data}
Writes: model.tflite
"""'''


def _imports(retrains: bool, experimental: bool) -> str:
    text = '''
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # before TensorFlow loads: TFMOT needs Keras 2 (tf_keras)

import numpy as np
import tensorflow as tf
import tf_keras as keras
'''
    if retrains:
        text = text.replace("import os\n", "import math\nimport os\n")
        text += "import tensorflow_model_optimization as tfmot\n"
    if experimental:
        # Sparsity preservation and per-channel clustering are TFMOT experimental options.
        text += ("from tensorflow_model_optimization.python.core.clustering.keras.experimental "
                 "import (\n    cluster as experimental_cluster)\n")
    return text


def _load(model_path: str, data_path: str, retrains: bool, calibrate: bool) -> str:
    text = f'''
MODEL_PATH = {json.dumps(str(model_path))}
DATA_PATH = {json.dumps(str(data_path))}
OUTPUT_PATH = "model.tflite"

keras.utils.set_random_seed(0)  # same shuffling and initialisation on every run
model = keras.models.load_model(MODEL_PATH, compile=False)
'''
    if retrains or calibrate:
        text += '''
data = np.load(DATA_PATH)


def samples(split):
    """A split's inputs: one array per model input, in the model's order (a model with
    several inputs keeps each under "<split>.<input name>")."""
    if split in data.files:
        return [data[split].astype("float32")]
    return [data[f"{split}.{name}"].astype("float32") for name in model.input_names]


def has(split):
    return any(key.split(".")[0] == split for key in data.files)

'''
    if retrains:
        text += ('x_train = samples("x_train")\nx_train = x_train[0] if len(x_train) == 1 '
                 'else x_train\ny_train = data["y_train"]\n')
    return text


def _finetune_helper(task: str) -> str:
    if task == "regression":
        choose = '''
LOSS, METRICS = "mse", ["mae"]  # a regression model
'''
    else:
        choose = '''
def loss_for(model):
    """Cross-entropy matching the output layer: softmax, one sigmoid unit, or logits."""
    last = model.layers[-1]
    name = "softmax" if type(last).__name__ == "Softmax" else getattr(
        getattr(last, "activation", None), "__name__", "linear")
    if model.output_shape[-1] == 1:
        return keras.losses.BinaryCrossentropy(from_logits=name != "sigmoid")
    return keras.losses.SparseCategoricalCrossentropy(from_logits=name != "softmax")


LOSS, METRICS = loss_for(model), ["accuracy"]
'''
    return choose + '''

def fine_tune(model, epochs, learning_rate, batch_size, callbacks=()):
    """Compile with Adam and fit on the training split (shuffled every epoch)."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=LOSS, metrics=METRICS)
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True,
              callbacks=list(callbacks), verbose=2)
'''


def _fit_call(config: FinetuneConfig, callbacks: str = "") -> str:
    extra = f",\n          callbacks={callbacks}" if callbacks else ""
    return (f"fine_tune(model, epochs={config.epochs}, learning_rate={config.learning_rate!r}, "
            f"batch_size={config.batch_size}{extra})")


def _pruning_block(number: int, p: PruningConfig, config: FinetuneConfig) -> str:
    if p.schedule == "constant":
        schedule = ("schedule = tfmot.sparsity.keras.ConstantSparsity(\n"
                    f"    {p.sparsity!r}, begin_step=0, frequency=frequency)")
    else:
        schedule = ("schedule = tfmot.sparsity.keras.PolynomialDecay(\n"
                    f"    initial_sparsity=0.0, final_sparsity={p.sparsity!r}, begin_step=0,\n"
                    "    end_step=end_step, frequency=frequency)")
    return f'''
# --- Step {number}: magnitude pruning to {p.sparsity:g} sparsity
# TFMOT updates the mask every `frequency` steps (counting from 1); end the ramp on a multiple
# of it within the fine-tune so the final mask is really applied, leaving the last quarter of
# the steps to recover accuracy.
total_steps = {config.epochs} * math.ceil(len(y_train) / {config.batch_size})
frequency = min({p.frequency}, total_steps)
end_step = max(frequency, int(total_steps * {RAMP_FRACTION!r}) // frequency * frequency)
{schedule}
model = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
{_fit_call(config, "[tfmot.sparsity.keras.UpdatePruningStep()]")}
model = tfmot.sparsity.keras.strip_pruning(model)
'''


def _clustering_block(number: int, settings: Settings, config: FinetuneConfig,
                      preserve: bool) -> str:
    c = settings.clustering
    head = f"init = tfmot.clustering.keras.CentroidInitialization.{_INITS[c.init]}\n"
    if preserve or c.per_channel:
        head += ("model = experimental_cluster.cluster_weights(\n"
                 f"    model, number_of_clusters={c.clusters}, cluster_centroids_init=init,\n"
                 f"    preserve_sparsity={bool(preserve)}, "
                 f"cluster_per_channel={bool(c.per_channel)})")
    else:
        head += ("model = tfmot.clustering.keras.cluster_weights(\n"
                 f"    model, number_of_clusters={c.clusters}, cluster_centroids_init=init)")
    title = ("sparsity-preserving clustering" if preserve else "weight clustering")
    return f'''
# --- Step {number}: {title}, {c.clusters} clusters{" per channel" if c.per_channel else ""}
{head}
{_fit_call(config)}
model = tfmot.clustering.keras.strip_clustering(model)
'''


def _preserved(technique) -> str | None:
    """What a preserving QAT keeps ("sparsity", "clusters", "sparsity and clusters")."""
    qat = next((s for s in technique.stages if s.kind == StageKind.QAT), None)
    return qat.preserve.replace("+", " and ") if qat and qat.preserve else None


def _qat_block(number: int, technique, config: FinetuneConfig) -> str:
    if technique.qat_scheme:
        body = ("annotated = tfmot.quantization.keras.quantize_annotate_model(model)\n"
                f"model = tfmot.quantization.keras.quantize_apply(\n    annotated, "
                f"{technique.qat_scheme})")
        title = f"quantization-aware training preserving {_preserved(technique)}"
    else:
        body = "model = tfmot.quantization.keras.quantize_model(model)"
        title = "quantization-aware training"
    return f'''
# --- Step {number}: {title}
{body}
{_fit_call(config)}
'''


def _representative_block(samples: int) -> str:
    return f'''
# Calibration: {samples} representative samples, one per yield.
x_rep = samples("x_rep") if has("x_rep") else samples("x_train")


def representative_dataset():
    for i in range(min({samples}, len(x_rep[0]))):
        if len(x_rep) == 1:
            yield [x_rep[0][i:i + 1]]
        else:  # by name: the converter's graph may order several inputs differently
            yield {{name: x[i:i + 1] for name, x in zip(model.input_names, x_rep)}}
'''


def _convert_block(number: int, spec: TechniqueSpec) -> str:
    """The conversion, written from the technique's ``ConverterOptions`` (as the engine applies
    them; a QAT model's options drop calibration)."""
    options = spec.conversion_options
    lines = []
    if options.optimize:
        lines.append("converter.optimizations = [tf.lite.Optimize.DEFAULT]")
    if options.supported_types:
        lines.append("converter.target_spec.supported_types = [%s]"
                     % ", ".join(f"tf.{t}" for t in options.supported_types))
    if options.calibrate:
        lines.append("converter.representative_dataset = representative_dataset")
    if options.fallback_ops:
        lines.append("# If an op has no kernel in these ops sets, also list "
                     + ", ".join(f"tf.lite.OpsSet.{o}" for o in options.fallback_ops) + ".")
    if options.supported_ops != ("TFLITE_BUILTINS",):
        ops = ", ".join(f"tf.lite.OpsSet.{o}" for o in options.supported_ops)
        lines.append(f"converter.target_spec.supported_ops = [{ops}]"
                     if len(ops) < 60 else f"converter.target_spec.supported_ops = [\n    {ops}]")
    if options.integer_io:
        lines += ["converter.inference_input_type = tf.int8",
                  "converter.inference_output_type = tf.int8"]
    what = ("int8 conversion (ranges learned during QAT: no calibration data)"
            if spec.quantization_aware else TECHNIQUES[spec.conversion].action)
    lines = [f"# --- Step {number}: {what}",
             "converter = tf.lite.TFLiteConverter.from_keras_model(model)", *lines,
             "tflite_model = converter.convert()",
             'with open(OUTPUT_PATH, "wb") as f:',
             "    f.write(tflite_model)",
             'print(f"wrote {OUTPUT_PATH}: {len(tflite_model):,} bytes")']
    return "\n".join(lines)

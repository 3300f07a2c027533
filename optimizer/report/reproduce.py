"""A short standalone Python script that reproduces one technique spec on the user's model.

``reproduce_script`` writes what a user would write by hand: tf_keras, TensorFlow Model
Optimization, ``tf.lite.TFLiteConverter`` and the LiteRT Quantizer, public APIs only. Every
part comes from the one object that owns it: each retraining stage's block from its handler
(``guide.stages``), the loss from ``engine.finetune.LossKind``, the converter assignments from
``ConverterOptions.settings`` and the quantizer calls from ``QuantizerRecipe.calls`` (what the
engine applies). ``reproduce_from_recipe`` writes it from a run's ``recipe.json``, so the
script carries what the run really used: fine-tune settings (``finetune.*`` overrides
included), the loss it fine-tuned with, knobs, calibration size and integer I/O type.

It reads a tf_keras model file and an ``.npz`` (``x_train``/``y_train`` for retraining; ``x_rep``
or ``x_train`` for calibration) and writes ``model.tflite``. The script does not depend on this
project. Pure Python: nothing here imports TensorFlow.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

from optimizer.engine.finetune import LossKind
from optimizer.guide.configs import TECHNIQUE_CONFIGS, FinetuneConfig, Settings
from optimizer.guide.registry import TechniqueSpec, parse_spec
from optimizer.guide.stage_handlers import STAGE_CONFIGS, STAGES

__all__ = ["reproduce_script", "reproduce_from_recipe", "read_recipe"]


def reproduce_script(spec: TechniqueSpec | str, settings: Settings,
                     finetune: dict[str, FinetuneConfig], model_path: str = "model.h5",
                     data_path: str = "data.npz", task: str = "classification",
                     loss: str | None = None, io_type: str = "int8") -> str:
    """Return the source of a standalone script reproducing ``spec`` and writing model.tflite.

    ``settings`` supplies each stage's config and the calibration size; ``finetune`` maps each
    retraining stage kind the spec uses ("pruning", "clustering", "qat") to the fine-tuning
    config the run used (``ValueError`` naming a missing one). ``loss`` is the loss the run
    fine-tuned with (a ``LossKind`` value); without it ``task`` decides: "regression" (MSE) or
    "classification" (chosen from the output layer when the script runs). ``io_type`` is the
    integer input/output type of an integer-only conversion.
    """
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    for kind in dict.fromkeys(str(stage.kind) for stage in spec.stages):
        if kind not in {str(k) for k in finetune}:
            raise ValueError(f"reproduce_script needs the fine-tuning config of the '{kind}' "
                             f"step; pass finetune={{'{kind}': FinetuneConfig(...), ...}}")
    finetune = {str(k): v for k, v in finetune.items()}
    loss_kind = _loss_kind(loss, task)
    blocks = [STAGES[stage.kind].script(number, settings.stage_config(stage.kind),
                                        finetune[str(stage.kind)], stage)
              for number, stage in enumerate(spec.stages, 1)]
    conversion = spec.conversion_row
    calibrate = spec.calibrates
    quantizer = conversion.quantizer if conversion.quantizer_only else None
    parts = [_header(spec, settings, blocks, model_path, data_path, calibrate, quantizer),
             _imports(bool(blocks), [i for b in blocks for i in b.imports], quantizer),
             _load(model_path, data_path, bool(blocks), calibrate or spec.quantization_aware,
                   loss_kind)]
    if blocks:
        parts.append(_finetune_helper(loss_kind))
    parts += [b.code for b in blocks]
    if calibrate or spec.quantization_aware:
        parts.append(_representative_block(settings.calibration_samples))
    if quantizer is not None and quantizer.per_layer:
        parts.append(_plan_block(getattr(settings, conversion.settings_group).layer_plan))
    parts.append(_convert_block(len(blocks) + 1, spec, io_type, settings.calibration_samples,
                                settings))
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def reproduce_from_recipe(recipe: dict, model_path: str = "model.h5",
                          data_path: str = "data.npz") -> str:
    """The script of a run's ``recipe.json`` (``read_recipe``): its spec, stage settings,
    fine-tuning configs, loss, calibration size and integer I/O type."""
    recorded = recipe.get("settings") or {}
    pairs = []
    for group, config in (*STAGE_CONFIGS, *TECHNIQUE_CONFIGS):
        fields = set(config.__dataclass_fields__)
        pairs += [f"{group}.{k}={v}" for k, v in (recorded.get(group) or {}).items()
                  if k in fields]
    conversion = recipe.get("conversion") or {}
    samples = conversion.get("calibration_samples",
                             (recorded.get("calibration") or {}).get("samples"))
    if samples is not None:
        pairs.append(f"calibration.samples={samples}")
    finetune = {kind: FinetuneConfig(**values)
                for kind, values in (recipe.get("finetune") or {}).items()}
    losses = set((recipe.get("loss") or {}).values())
    if len(losses) > 1:
        raise ValueError(f"the recipe's stages fine-tuned with different losses {sorted(losses)}; "
                         "one script writes one loss")
    return reproduce_script(recipe["technique"], Settings.from_pairs(pairs), finetune,
                            model_path=model_path, data_path=data_path,
                            task=recipe.get("task") or "classification",
                            loss=next(iter(losses), None),
                            io_type=conversion.get("io_type") or "int8")


def read_recipe(path: str | Path) -> dict:
    """A ``recipe.json`` written next to a run's ``.tflite`` (``ValueError`` when it is
    missing or not a recipe)."""
    try:
        recipe = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the run's recipe.json ({type(exc).__name__}); run the "
                         "technique again to write it") from None
    if not isinstance(recipe, dict) or "technique" not in recipe:
        raise ValueError("recipe.json names no technique; run the technique again to write it")
    return recipe


def _loss_kind(loss: str | None, task: str) -> LossKind | None:
    """The recorded loss, MSE for a regression task, or None (chosen when the script runs)."""
    if loss is not None:
        return LossKind(loss)
    if task == "regression":
        return LossKind.MSE
    if task != "classification":
        raise ValueError(f"unknown task '{task}'; use 'classification' or 'regression'")
    return None


def _header(spec, settings, blocks, model_path, data_path, calibrate, quantizer) -> str:
    lines = [b.header for b in blocks]
    row = spec.conversion_row
    if spec.quantization_aware:
        lines.append("int8 conversion" + (" with integer input and output" if row.integer_only
                                          else " (float input and output)"))
    else:
        lines.append(row.action + (f" ({settings.calibration_samples} calibration samples)"
                                   if calibrate else ""))
    steps = "\n".join(f"  {i}. {line}" for i, line in enumerate(lines, 1))
    if blocks:
        data = f"{data_path} (x_train, y_train: the labelled training split)"
    elif calibrate:
        data = f"{data_path} (x_rep, or else x_train: representative samples)"
    else:
        data = "none"
    needs = ", tensorflow-model-optimization 0.8.1" if blocks else ""
    needs += ", litert-quantizer 0.11" if quantizer is not None else ""
    return f'''"""Reproduce '{spec.text}' on your model with public APIs.

Generated by LiteRT Optimization Studio. Steps:
{steps}

Needs: tensorflow 2.21, tf-keras 2.21{needs}, numpy
Model: {model_path} (saved with tf_keras); data: {data}
Writes: model.tflite
"""'''


def _imports(retrains: bool, extra: list, quantizer) -> str:
    plain = sorted({"import os", *(i for i in extra if i.startswith("import "))})
    text = "\n".join(plain) + '''

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # before TensorFlow loads: TFMOT needs Keras 2 (tf_keras)

import numpy as np
import tensorflow as tf
import tf_keras as keras
'''
    if retrains:
        text += "import tensorflow_model_optimization as tfmot\n"
    if quantizer is not None and quantizer.per_layer:
        text += "import re\n"
    if quantizer is not None:
        text += "from litert_quantizer import quantizer as litert_quantizer\n"
        text += "from litert_quantizer import recipe\n"
    for line in dict.fromkeys(i for i in extra if not i.startswith("import ")):
        text += line + "\n"
    return text


def _load(model_path: str, data_path: str, retrains: bool, calibrate: bool,
          loss_kind: LossKind | None) -> str:
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
                 'else x_train\ny_train = data["y_train"]\n' + _labels(loss_kind))
    return text


def _labels(loss_kind: LossKind | None) -> str:
    """The labels as the run's loss takes them (as ``engine.finetune`` prepares them)."""
    if loss_kind is None or loss_kind.labels == "classes":
        return ('if y_train.ndim == 2 and y_train.shape[1] == model.output_shape[-1] > 1:\n'
                '    y_train = y_train.argmax(axis=1)  # one-hot labels -> class indices\n'
                + ('y_train = y_train.reshape(-1).astype("int64")\n'
                   if loss_kind is not None else ""))
    if loss_kind.labels == "binary":
        return 'y_train = y_train.reshape(-1, 1).astype("float32")\n'
    if loss_kind.labels == "values":
        return 'y_train = y_train.astype("float32")  # regression targets\n'
    raise ValueError(f"loss {loss_kind}: unknown label kind {loss_kind.labels!r}")


def _finetune_helper(loss_kind: LossKind | None) -> str:
    if loss_kind is not None:
        choose = (f"\nLOSS = {loss_kind.loss_source}  # the loss the run fine-tuned with\n"
                  f"METRICS = [{loss_kind.metric_source}]\n")
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


def _plan_block(plan) -> str:
    """The mixed-precision plan and the two functions its Quantizer rules name layers with,
    resolved on the script's own float model (the layer names are the engine's: the naming
    functions' source is ``optimizer.measuring.precision``'s, embedded)."""
    from optimizer.measuring.precision import short_layer_name, unique_names

    return f'''
# The per-layer plan the run used: {plan.describe()}; {plan.io} input and output.
PLAN = {json.dumps(plan.to_dict())}


{inspect.getsource(short_layer_name).strip()}


{inspect.getsource(unique_names).strip()}


def plan_layers(tflite):
    """{{layer name: (output tensor, reads a graph input, writes a graph output)}} of a float
    .tflite, named as the run named them."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    graph = model.subgraphs[0]
    codes = {{v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}}
    inputs = {{int(i) for i in graph.inputs}}
    outputs = {{int(i) for i in graph.outputs}}
    ops = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = codes.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")
        if name in ("QUANTIZE", "DEQUANTIZE") or op.outputs is None or not len(op.outputs):
            continue
        tensor = graph.tensors[int(op.outputs[0])].name.decode()
        ops.append((name, tensor, any(int(i) in inputs for i in op.inputs),
                    int(op.outputs[0]) in outputs))
    names = unique_names([short_layer_name(t, n) for n, t, _, _ in ops])
    return {{n: (t, reads, writes) for n, (_, t, reads, writes) in zip(names, ops)}}


def layer_regex(*names):
    """The Quantizer scope of these layers' ops (output tensor names, each ending in ';')."""
    return "^(?:" + "|".join(re.escape(LAYERS[n][0]) for n in names) + ");"


def input_regex(*names):
    """The graph's INPUT op when one of these layers reads an input, else nothing."""
    return ".*" if any(LAYERS[n][1] for n in names) else "(?!)"


def output_regex(*names):
    """The graph's OUTPUT op when one of these layers writes an output, else nothing."""
    return ".*" if any(LAYERS[n][2] for n in names) else "(?!)"
'''


def _convert_block(number: int, spec: TechniqueSpec, io_type: str, samples: int,
                   settings: Settings | None = None) -> str:
    """The conversion, written from the same converter settings (and LiteRT Quantizer calls)
    the engine applies; a QAT model's representative dataset only when QAT left layers float."""
    row = spec.conversion_row
    what = ("int8 conversion (ranges learned during QAT: no calibration data)"
            if spec.quantization_aware else row.action)
    lines = [f"# --- Step {number}: {what}",
             "converter = tf.lite.TFLiteConverter.from_keras_model(model)"]
    if row.quantizer_only:
        lines += ["float_model = converter.convert()  # float32 first, then the LiteRT Quantizer",
                  "quantizer = litert_quantizer.Quantizer(bytearray(float_model))"]
        if row.quantizer.per_layer:
            plan = getattr(settings or Settings(), row.settings_group).layer_plan
            missing = "[n for n in PLAN['layers'] if n not in LAYERS]"
            lines += ["LAYERS = plan_layers(float_model)",
                      f"assert not {missing}, f\"layers not in this model: {{{missing}}}\"",
                      *(call.source for call in row.quantizer.calls(plan))]
        else:
            lines += [call.source for call in row.quantizer.calls()]
        if row.quantizer.calibrate:
            lines += ["calibration = {\"serving_default\": [",
                      "    {name: x[i:i + 1] for name, x in zip(model.input_names, x_rep)}",
                      f"    for i in range(min({samples}, len(x_rep[0])))]}}",
                      "tflite_model = bytes(quantizer.quantize(",
                      "    quantizer.calibrate(calibration)).quantized_model)"]
        else:
            lines.append("tflite_model = bytes(quantizer.quantize().quantized_model)")
    else:
        options = row.converter
        settings = options.settings(io_type=io_type, qat=spec.quantization_aware)
        if options.fallback_ops and not spec.quantization_aware:
            lines.append("# If an op has no kernel in these ops sets, also list "
                         + ", ".join(f"tf.lite.OpsSet.{o}" for o in options.fallback_ops) + ".")
        for setting in settings:
            if setting.only_with_data:
                lines += ["if left_float:  # layers QAT left float: quantize them from data",
                          "    " + setting.source]
            else:
                lines.append(setting.source)
        lines.append("tflite_model = converter.convert()")
    lines += ['with open(OUTPUT_PATH, "wb") as f:',
              "    f.write(tflite_model)",
              'print(f"wrote {OUTPUT_PATH}: {len(tflite_model):,} bytes")']
    return "\n".join(lines)

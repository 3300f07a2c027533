"""The demos' tf_keras architectures (TensorFlow is imported inside the functions only).

Every architecture is QAT-friendly: BatchNormalization appears only directly after a
convolution, where TFMOT folds it; there is no standalone BN that ``quantize_model`` rejects.
"""
from __future__ import annotations

from optimizer import compat


def _digits_cnn(keras, spec):
    # ~38k parameters: two convolutions, one pooling, a small dense head (8x8x1 input).
    layers = keras.layers
    return keras.Sequential([
        layers.InputLayer(input_shape=spec.input_shape),
        layers.Conv2D(16, 3, padding="same"),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(spec.num_classes, activation="softmax"),
    ], name="digits_cnn")


def _digits_mobilenetv2(keras, spec):
    model = keras.applications.MobileNetV2(alpha=0.35, input_shape=spec.input_shape,
                                           classes=spec.num_classes, weights=None)
    # Keras' MobileNetV2 uses BatchNorm momentum 0.999: after a short from-scratch training the
    # moving statistics have not converged and test accuracy is at chance (measured 10%).
    # 0.9 converges within the demo's training and keeps fine-tuning stable (measured 96%).
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    return model


def _waveforms_conv1d(keras, spec):
    # ~14k parameters: three 1-D convolutions over 128 samples, global pooling, a dense head.
    # The convolutions are written as Conv2D with (k, 1) kernels over a (128, 1, 1) view:
    # the same 1-D convolution (TFLite itself converts Conv1D into CONV_2D), but TFMOT's
    # quantize_model rejects Conv1D layers, so this is what keeps the demo QAT-friendly.
    layers = keras.layers
    length = spec.input_shape[0]
    return keras.Sequential([
        layers.InputLayer(input_shape=spec.input_shape),
        layers.Reshape((length, 1, spec.input_shape[-1])),
        layers.Conv2D(32, (7, 1), padding="same"),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D((2, 1)),
        layers.Conv2D(32, (5, 1), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 1)),
        layers.Conv2D(64, (3, 1), padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(32, activation="relu"),
        layers.Dense(spec.num_classes, activation="softmax"),
    ], name="waveforms_conv1d")


def _tabular_mlp(keras, spec):
    layers = keras.layers
    return keras.Sequential([
        layers.InputLayer(input_shape=spec.input_shape),
        layers.Dense(32, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(spec.num_classes, activation="softmax"),
    ], name="tabular_mlp")


def _digits_outliers(keras, spec):
    # ~44k parameters. The first layer divides each input by its unit (1, or 300 for the three
    # raw-unit inputs: optimizer/models/demos/outliers.py): one op whose input range int8
    # cannot resolve. Layer names are fixed (not Keras' per-process counters): the repair
    # page and its tests name "normalize" as the layer that reads the outlier inputs.
    from optimizer.models.demos.outliers import unit_scales

    layers = keras.layers
    scales = unit_scales(spec.input_shape[0])
    return keras.Sequential([
        layers.InputLayer(input_shape=spec.input_shape),
        layers.Normalization(mean=[0.0] * len(scales),
                             variance=[float(s) ** 2 for s in scales], name="normalize"),
        layers.Dense(32, activation="relu", name="dense"),
        layers.Dense(256, activation="relu", name="dense_1"),
        layers.Dense(128, activation="relu", name="dense_2"),
        layers.Dense(spec.num_classes, activation="softmax", name="dense_3"),
    ], name="digits_outliers")


_ARCHITECTURES = {
    "digits-cnn": _digits_cnn,
    "digits-mobilenetv2": _digits_mobilenetv2,
    "waveforms-conv1d": _waveforms_conv1d,
    "tabular-mlp": _tabular_mlp,
    "digits-outliers": _digits_outliers,
}


def build_architecture(spec):
    """The uncompiled tf_keras architecture of ``spec``, freshly initialised (seed it first)."""
    if spec.name not in _ARCHITECTURES:
        raise ValueError(f"no architecture for demo '{spec.name}'; known: "
                         f"{', '.join(_ARCHITECTURES)}")
    return _ARCHITECTURES[spec.name](compat.keras(), spec)


def compile_model(model, learning_rate):
    """Compile ``model`` in place (Adam, sparse categorical cross-entropy, accuracy); return it.

    ``learning_rate`` may be a number or a Keras learning-rate schedule.
    """
    keras = compat.keras()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_trained(spec):
    """A new compiled tf_keras model for ``spec`` with its shipped weights loaded.

    Raises ``FileNotFoundError`` naming the regeneration command when the weights are missing.
    """
    if not spec.weights_path.exists():
        raise FileNotFoundError(f"weights for demo '{spec.name}' not found at {spec.weights_path}; "
                                f"regenerate them with: python -m optimizer.models.demos.train "
                                f"--model {spec.name}")
    model = build_architecture(spec)
    # Loaded before compiling: the file holds layer weights only (no optimizer state).
    model.load_weights(str(spec.weights_path))
    # Compiled so evaluate() works at once; fine-tuning recompiles with its own settings.
    return compile_model(model, spec.finetune.learning_rate)


def save_layer_weights(model, spec, path) -> None:
    """Save only ``model``'s layer weights to ``path`` (must end in ``.weights.h5``).

    A compiled model would also write its optimizer slots and metric totals, tripling the
    file; a fresh uncompiled copy of the architecture carries the layer weights alone.
    """
    bare = build_architecture(spec)
    bare.set_weights(model.get_weights())
    bare.save_weights(str(path))

"""Quantize configs of our own for the layers of attention models TFMOT's 8-bit registry lacks.

TFMOT (0.8) has no ``QuantizeConfig`` for ``Embedding``, ``EinsumDense`` or
``MultiHeadAttention``, so under QAT a small text transformer trained almost all of its
weights in float (0.35% of them fake-quantized, measured). These configs fake-quantize the
weights the way TFMOT does a ``Dense`` kernel (8 bits, symmetric, narrow range, one scale per
tensor, the last value seen):

* ``Embedding``: its ``embeddings`` table (the converter stores it int8 either way, and QAT
  now trains against that rounding);
* ``EinsumDense``: its ``kernel``, and its output with a moving-average range (as ``Dense``);
* ``MultiHeadAttention``: the kernels of its four projections (query, key, value, output:
  ``EinsumDense`` sub-layers). Its internals (the score matmul and softmax) keep float
  activations while training; the converter quantizes them from the representative data, so
  the retraining job passes it (``partly_float``).

Used under plain QAT (the preserving schemes keep their own registries). TensorFlow is
reached through the ``quantization`` module handed in (``tfmot.quantization.keras``).
"""
from __future__ import annotations

#: Layers whose weights these configs fake-quantize but whose internal activations the
#: converter still calibrates (the retraining job then gives it representative data).
PARTLY_FLOAT = frozenset({"MultiHeadAttention"})
#: The attention projections of a ``MultiHeadAttention`` (tf_keras' attribute names).
_PROJECTIONS = ("_query_dense", "_key_dense", "_value_dense", "_output_dense")


def attention_quantize_configs(quantization) -> dict:
    """``{layer class name: QuantizeConfig class}`` for Embedding, EinsumDense and
    MultiHeadAttention, built on ``quantization`` (``tfmot.quantization.keras``)."""
    quantizers = quantization.quantizers

    def weight_quantizer():
        return quantizers.LastValueQuantizer(num_bits=8, symmetric=True, narrow_range=True,
                                             per_axis=False)

    def output_quantizer():
        return quantizers.MovingAverageQuantizer(num_bits=8, symmetric=False,
                                                 narrow_range=False, per_axis=False)

    class _Weights(quantization.QuantizeConfig):
        """Fake-quantize named weights; no activations; outputs as ``outputs()`` says."""

        def weights(self, layer):
            raise NotImplementedError

        def put(self, layer, values):
            raise NotImplementedError

        def get_weights_and_quantizers(self, layer):
            return [(w, weight_quantizer()) for w in self.weights(layer)]

        def get_activations_and_quantizers(self, layer):
            return []

        def set_quantize_weights(self, layer, quantize_weights):
            self.put(layer, list(quantize_weights))

        def set_quantize_activations(self, layer, quantize_activations):
            return None

        def get_output_quantizers(self, layer):
            return []

        def get_config(self):
            return {}

    class EmbeddingQuantizeConfig(_Weights):
        def weights(self, layer):
            return [layer.embeddings]

        def put(self, layer, values):
            layer.embeddings = values[0]

    class EinsumDenseQuantizeConfig(_Weights):
        def weights(self, layer):
            return [layer.kernel]

        def put(self, layer, values):
            layer.kernel = values[0]

        def get_output_quantizers(self, layer):
            return [output_quantizer()]

    class MultiHeadAttentionQuantizeConfig(_Weights):
        def weights(self, layer):
            return [getattr(layer, name).kernel for name in _PROJECTIONS]

        def put(self, layer, values):
            for name, value in zip(_PROJECTIONS, values):
                getattr(layer, name).kernel = value

    return {"Embedding": EmbeddingQuantizeConfig, "EinsumDense": EinsumDenseQuantizeConfig,
            "MultiHeadAttention": MultiHeadAttentionQuantizeConfig}

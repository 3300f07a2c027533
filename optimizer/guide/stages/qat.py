"""The quantization-aware training stage (TFMOT), plain or preserving earlier stages.

The scheme follows from what the stage preserves (``guide.stage.QatScheme``). Layers the scheme
cannot quantize (``Rescaling``, a BatchNormalization that does not follow a Conv, attention,
TFOpLambda math) are left float while fine-tuning (TFMOT's "quantize some layers" path); the
converter then quantizes them from representative data. The reproduce script does the same.
"""
from __future__ import annotations

from optimizer.guide.stage import (
    Preserve,
    ScriptBlock,
    StageHandler,
    StageKind,
    finetune_words,
    fit_call,
)

#: The reproduce script's scheme wrapper and annotation, as the engine does it
#: (``engine.qat``): a registry may claim a layer (e.g. Rescaling) it then has no config for.
_ANNOTATE = '''
class CheckedScheme(tfmot.quantization.keras.QuantizeScheme):
    """The scheme, saying "supported" only for layers its registry also has a config for."""

    def __init__(self, inner):
        self.inner, self.registry = inner, inner.get_quantize_registry()
        claims, asking = self.registry.supports, set()

        def supports(layer):
            if not claims(layer):
                return False
            if id(layer) in asking:  # get_quantize_config may ask supports() again
                return True
            asking.add(id(layer))
            try:
                self.registry.get_quantize_config(layer)
            except (ValueError, KeyError):
                return False
            finally:
                asking.discard(id(layer))
            return True

        self.registry.supports = supports

    def get_layout_transformer(self):
        return self.inner.get_layout_transformer()

    def get_quantize_registry(self):
        return self.registry


scheme = CheckedScheme(
    {scheme})
left_float = []


def annotate(layer):
    """Annotate what the scheme can quantize; leave the rest float (the converter quantizes
    those from the representative data)."""
    if isinstance(layer, keras.Model) or not scheme.registry.supports(layer):
        left_float.append(layer.name)
        return layer
    return tfmot.quantization.keras.quantize_annotate_layer(layer)


annotated = keras.models.clone_model(model, clone_function=annotate)
with tfmot.quantization.keras.quantize_scope():
    model = tfmot.quantization.keras.quantize_apply(annotated, scheme)
if left_float:
    print("left float (quantized by the converter from representative data):",
          ", ".join(left_float))
'''


def script(number: int, config, finetune, stage) -> ScriptBlock:
    """The reproduce script's QAT block; it defines ``left_float`` (layers it left float),
    which the conversion block reads."""
    scheme = stage.qat_scheme
    title = "quantization-aware training" + (
        f" preserving {scheme.preserve.words}" if scheme.preserve else "")
    body = _ANNOTATE.lstrip("\n").replace("{scheme}", scheme.expression)
    code = f"\n# --- Step {number}: {title}\n{body}{fit_call(finetune)}\n"
    return ScriptBlock(code=code, header=f"{title} ({finetune_words(finetune)})")


STAGE = StageHandler(
    kind=StageKind.QAT, label="QAT",
    apply="optimizer.engine.stage_steps:run_qat",
    script=script, quantization_aware=True,
    preserves=(None, Preserve.SPARSITY, Preserve.CLUSTERS, Preserve.SPARSITY_AND_CLUSTERS),
)

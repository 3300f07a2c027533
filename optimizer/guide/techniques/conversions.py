"""Which conversions may follow a retraining technique after ``+`` (the first is the default)."""
from optimizer.guide.ids import TechniqueId

#: After pruning or clustering: the float file itself, or any post-training quantization.
AFTER_TRAINING = (TechniqueId.FLOAT32, TechniqueId.FLOAT16, TechniqueId.DYNAMIC_RANGE,
                  TechniqueId.INTEGER, TechniqueId.INTEGER_ONLY, TechniqueId.INT16X8)
#: After quantization-aware training: int8 with float I/O (default) or with int8 I/O.
AFTER_QAT = (TechniqueId.INTEGER, TechniqueId.INTEGER_ONLY)
#: TFMOT's collaborative QAT schemes live in ``tfmot.experimental.combine``.
COMBINE = "tfmot.experimental.combine."

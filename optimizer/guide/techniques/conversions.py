"""Which conversions may follow a retraining technique after ``+`` (the first is the default).

A shared module (no ``TECHNIQUE``): listed in ``SHARED_MODULES`` of this package.
"""
from optimizer.guide.technique import ANY_CONVERSION

#: After pruning or clustering: the float file itself (the default), or any conversion in the
#: registry, including ones added later (``registry.conversions_after`` expands ``ANY``).
AFTER_TRAINING = ("float32", ANY_CONVERSION)
#: After quantization-aware training: int8 with float I/O (default) or with int8 I/O.
AFTER_QAT = ("integer", "integer_only")

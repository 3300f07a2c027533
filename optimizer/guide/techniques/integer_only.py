"""Post-training integer-only quantization: every op int8, int8 input and output."""
from optimizer.guide.ids import GUIDE_PTQ, DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import ConverterOptions, QuantizerRecipe, TechniqueInfo

TECHNIQUE = TechniqueInfo(
    id="integer_only", order=50, title="Post-training integer quantization (integer only)",
    family=Family.POST_TRAINING, data=DataNeed.REPRESENTATIVE, retrains=False,
    guide_size="Up to 75%", guide_accuracy="Small accuracy loss",
    guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(Format.INT8_ONLY,), size_factor=0.25,
    summary="Every op int8 with int8 input and output, as Edge TPUs and microcontrollers "
            "require; conversion fails on an op that cannot be quantized.",
    color="#e15759",
    action="post-training integer-only quantization (int8 input and output)",
    source=GUIDE_PTQ,
    converter=ConverterOptions(optimize=True, calibrate=True, integer_io=True,
                               supported_ops=("TFLITE_BUILTINS_INT8",)),
    # Uploaded .tflite: int8 input and output; uint8 I/O is not expressible by the quantizer.
    quantizer=QuantizerRecipe("static_wi8_ai8", recipe="static_wi8_ai8", calibrate=True),
)

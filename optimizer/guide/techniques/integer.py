"""Post-training integer quantization with float fallback and float input/output."""
from optimizer.guide.ids import GUIDE_PTQ, DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import ConverterOptions, QuantizerRecipe, TechniqueInfo

TECHNIQUE = TechniqueInfo(
    id="integer", order=40, title="Post-training integer quantization (float fallback)",
    family=Family.POST_TRAINING, data=DataNeed.REPRESENTATIVE, retrains=False,
    guide_size="Up to 75%", guide_accuracy="Small accuracy loss",
    guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(Format.INT8_FLOAT_IO,),
    size_factor=0.25,
    summary="Weights and activations int8 where possible, float32 otherwise; input and output "
            "stay float. Calibrated on 100-500 representative samples.",
    color="#f28e2b",
    action="post-training integer quantization (float fallback, float I/O)",
    hardware_note="Float input/output and float fallback ops are not Edge TPU compatible; use "
                  "integer_only there.",
    source=GUIDE_PTQ,
    converter=ConverterOptions(optimize=True, calibrate=True),
    # Uploaded .tflite: INPUT and OUTPUT left unquantized, so the file takes and returns float
    # (QUANTIZE / DEQUANTIZE at the edges), like the converter's.
    quantizer=QuantizerRecipe("static_wi8_ai8 (INPUT/OUTPUT not quantized)",
                              recipe="static_wi8_ai8", float_io=True,
                              calibrate=True),
)

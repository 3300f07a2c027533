"""Post-training float16 quantization: float16 weights, no data needed."""
from optimizer.guide.conversion import QuantizerAlgorithm
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import ConverterOptions, QuantizerRecipe, TechniqueInfo

TECHNIQUE = TechniqueInfo(
    id="float16", order=20, title="Post-training float16 quantization",
    family=Family.POST_TRAINING, data=DataNeed.NONE, retrains=False, guide_size="Up to 50%",
    guide_accuracy="Insignificant accuracy loss", guide_hardware="CPU, GPU",
    formats=(Format.FLOAT16,), size_factor=0.5,
    summary="Weights stored as float16; the model still computes in float32 on CPU and in "
            "float16 on GPU delegates.",
    color="#4e79a7",
    action="post-training float16 quantization",
    hardware_note="The GPU-friendly choice; not for Edge TPU or microcontrollers.",
    converter=ConverterOptions(optimize=True, supported_types=("float16",)),
    # Uploaded .tflite: weight-only float casting to 16 bits (float16 weights behind DEQUANTIZE).
    quantizer=QuantizerRecipe("weight_only float_casting fp16", weight_only_bits=16,
                              algorithm=QuantizerAlgorithm.FLOAT_CASTING),
)

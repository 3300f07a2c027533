"""Post-training dynamic range quantization: int8 weights, activations quantized on the fly."""
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import ConverterOptions, QuantizerRecipe, TechniqueInfo

TECHNIQUE = TechniqueInfo(
    id="dynamic_range", order=30, title="Post-training dynamic range quantization",
    family=Family.POST_TRAINING, data=DataNeed.NONE, retrains=False, guide_size="Up to 75%",
    guide_accuracy="Smallest accuracy loss", guide_hardware="CPU, GPU (Android)",
    formats=(Format.DYNAMIC_RANGE,), size_factor=0.25,
    summary="Weights stored as int8; activations are quantized on the fly by dynamic-range "
            "kernels, so no data is needed.",
    color="#76b7b2",
    action="post-training dynamic range quantization (int8 weights)",
    hardware_note="Mixed float/integer execution: not for Edge TPU or microcontrollers.",
    converter=ConverterOptions(optimize=True),
    # For an uploaded .tflite, dynamic_legacy_wi8_afp32 quantizes only weights with at least
    # 1,024 elements, as the converter does, and matches its size (558,480 vs 558,512 B on
    # MobileNetV2-0.35@96) and XNNPACK partitioning (0.73-0.78 vs 0.75-0.82 ms);
    # dynamic_wi8_afp32 leaves all 17 depthwise convolutions to builtin dynamic-range kernels
    # between XNNPACK partitions: 1.7-1.9 ms against 0.48-0.51 ms for float (measured).
    quantizer=QuantizerRecipe("dynamic_legacy_wi8_afp32", recipe="dynamic_legacy_wi8_afp32"),
)

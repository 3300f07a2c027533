"""Post-training integer quantization with int16 activations and int8 weights."""
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import ConverterOptions, QuantizerRecipe, TechniqueInfo

TECHNIQUE = TechniqueInfo(
    id="int16x8", order=60, title="Post-training integer quantization with int16 activations",
    family=Family.POST_TRAINING, data=DataNeed.REPRESENTATIVE, retrains=False,
    guide_size="Up to 75% (weights int8)",
    guide_accuracy="Can be more accurate than int8 activations",
    guide_hardware="CPU (reference kernels)", formats=(Format.INT16X8,), size_factor=0.3,
    summary="int16 activations with int8 weights: more accurate when activations are sensitive "
            "to quantization.",
    color="#b07aa1",
    action="post-training int16x8 quantization (int16 activations, int8 weights)",
    hardware_note="Only unoptimized reference kernels exist, so it is slower than int8; hardware "
                  "delegates do not run it.",
    # The guide's recipe lists the 16x8 ops set alone; an op without a 16x8 kernel is then
    # converted again with TFLITE_BUILTINS added so that op runs in float (the log says which).
    converter=ConverterOptions(
        optimize=True, calibrate=True,
        supported_ops=("EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8",),
        fallback_ops=("TFLITE_BUILTINS",)),
    # Uploaded .tflite: int16 input and output, unlike the converter's float I/O.
    quantizer=QuantizerRecipe("static_wi8_ai16", recipe="static_wi8_ai16", calibrate=True),
    # It runs on reference kernels (tens of times slower) and adds no size benefit after a
    # retraining technique: the search does not try it there.
    search_after_training=False,
)

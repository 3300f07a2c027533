"""Dynamic-range int4 in blocks of 32 weights, by the LiteRT Quantizer.

Why not weight-only blockwise: the LiteRT Quantizer 0.11's policy allows blockwise int4 only
for dynamic quantization (``dynamic_wi4_afp32_blockwise``: FULLY_CONNECTED, EMBEDDING_LOOKUP);
a weight-only blockwise rule quantizes nothing (measured: every weight stayed float32). The
dynamic blockwise file runs in LiteRT's CPU interpreter (measured on digits-outliers).
"""
from optimizer.guide.conversion import Granularity, QuantizerRecipe
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import TechniqueInfo
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id="int4_blockwise", order=67, title=N_("Dynamic-range int4, blockwise (32 weights per scale)"),
    family=Family.POST_TRAINING, data=DataNeed.NONE, retrains=False,
    guide_size=N_("Not in the guide's table"), guide_accuracy=N_("Not in the guide's table"),
    guide_hardware=N_("Not in the guide's table"), formats=(Format.DYNAMIC_RANGE,),
    size_factor=0.125,
    summary=N_("Fully connected and embedding weights stored as int4 with one scale per block of "
              "32 input weights; activations are quantized on the fly. Other ops, and layers "
              "whose input size is not a multiple of 32, stay float (the result says which)."),
    action="dynamic-range int4 quantization (blockwise, 32 weights per scale, LiteRT Quantizer)",
    color="#aec7e8", source=N_("LiteRT Quantizer (litert_quantizer) recipes"),
    hardware_note=N_("Measured on this CPU only; hardware delegates are not known to run int4 "
                    "blockwise kernels."),
    quantizer=QuantizerRecipe("dynamic int4 blockwise 32", weight_only_bits=4,
                              granularity=Granularity.BLOCKWISE_32, dynamic=True),
)

"""Weight-only int4 quantization, one scale per output channel, by the LiteRT Quantizer."""
from optimizer.guide.conversion import Granularity, QuantizerRecipe
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import TechniqueInfo
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id="int4_weights", order=66, title=N_("Weight-only int4 quantization (channelwise)"),
    family=Family.POST_TRAINING, data=DataNeed.NONE, retrains=False,
    guide_size=N_("Not in the guide's table"), guide_accuracy=N_("Not in the guide's table"),
    guide_hardware=N_("Not in the guide's table"), formats=(Format.WEIGHT_ONLY,), size_factor=0.125,
    summary=N_("Weights stored as int4 (two per byte) with one scale per output channel and "
              "dequantized to float before each op: about half the size of int8 weights, float "
              "compute, no data needed. Ops the recipe does not cover stay float (the result "
              "says which and why)."),
    action="weight-only int4 quantization (channelwise, LiteRT Quantizer)",
    color="#7f7f7f", source=N_("LiteRT Quantizer (litert_quantizer) recipes"),
    hardware_note=N_("Float compute: the file is smaller, not faster."),
    quantizer=QuantizerRecipe("weight_only int4 channelwise", weight_only_bits=4,
                              granularity=Granularity.CHANNELWISE),
)

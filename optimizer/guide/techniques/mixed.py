"""Mixed precision: a precision per layer (int8, int16 activations, or float) from a plan."""
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.precision import MixedConfig
from optimizer.guide.targets import Format
from optimizer.guide.technique import QuantizerRecipe, TechniqueInfo
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id="mixed", order=62, title=N_("Mixed precision per layer (int8 / int16 / float)"),
    family=Family.POST_TRAINING, data=DataNeed.REPRESENTATIVE, retrains=False,
    guide_size=N_("Not in the guide's table"), guide_accuracy=N_("Not in the guide's table"),
    guide_hardware=N_("Not in the guide's table"), formats=(Format.MIXED,), size_factor=None,
    summary=N_("Each layer gets the precision a plan gives it: int8, int16 activations with int8 "
              "weights, or float. The layers int8 damages get more bits; the rest stay int8. "
              "The search makes the plan from each layer's measured sensitivity."),
    action="mixed-precision post-training quantization (a precision per layer, LiteRT "
           "Quantizer)",
    color="#e377c2", source=N_("LiteRT Quantizer (litert_quantizer) per-op rules"),
    hardware_note=N_("int16 layers run on reference kernels on a CPU (slower than int8); "
                    "integer-only targets take int8 and int16 layers only."),
    # The plan (guide.precision.LayerPlan) is the setting mixed.plan; without one every layer
    # is int8 with float input/output (the same file as 'integer' by the LiteRT Quantizer).
    quantizer=QuantizerRecipe("static_wi8_ai8 with per-layer int16 / float rules",
                              recipe="static_wi8_ai8", calibrate=True, per_layer=True),
    outside_tree=N_("not in the guide's quantization tree: a per-layer plan, which the search makes "
                   "from each layer's measured sensitivity when int8 misses the accuracy budget "
                   "(or give one: run --technique mixed --set mixed.plan=@plan.json)"),
    settings_group="mixed", settings_config=MixedConfig, per_layer=True,
    search_after_training=False,
)

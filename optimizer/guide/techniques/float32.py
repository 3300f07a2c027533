"""Float32 TFLite conversion: the baseline every variant is compared with."""
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import ConverterOptions, TechniqueInfo
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id="float32", order=10, title=N_("Float32 TFLite (baseline)"), family=Family.BASELINE,
    data=DataNeed.NONE, retrains=False, guide_size=N_("None (baseline)"), guide_accuracy=N_("Baseline"),
    guide_hardware=N_("CPU, GPU"), formats=(Format.FLOAT32,), size_factor=1.0,
    summary=N_("Plain float conversion. The guide converts to float first: it checks every op is "
               "supported and is the baseline every variant is compared with."),
    color="#8d8d8d",
    action="float32 conversion (no quantization)",
    hardware_note=N_("Edge TPUs and microcontrollers need integer-only models."),
    converter=ConverterOptions(),
)

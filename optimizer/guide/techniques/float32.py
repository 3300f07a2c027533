"""Float32 TFLite conversion: the baseline every variant is compared with."""
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import ConverterOptions, TechniqueInfo

TECHNIQUE = TechniqueInfo(
    id="float32", order=10, title="Float32 TFLite (baseline)", family=Family.BASELINE,
    data=DataNeed.NONE, retrains=False, guide_size="None (baseline)", guide_accuracy="Baseline",
    guide_hardware="CPU, GPU", formats=(Format.FLOAT32,), size_factor=1.0,
    summary="Plain float conversion. The guide converts to float first: it checks every op is "
            "supported and is the baseline every variant is compared with.",
    color="#8d8d8d",
    action="float32 conversion (no quantization)",
    hardware_note="Edge TPUs and microcontrollers need integer-only models.",
    converter=ConverterOptions(),
)

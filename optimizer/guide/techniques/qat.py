"""Quantization-aware training, then int8 conversion."""
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import SizeClass, Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_QAT

TECHNIQUE = TechniqueInfo(
    id="qat", order=70, title="Quantization-aware training", family=Family.TRAINING,
    data=DataNeed.LABELLED, retrains=True, guide_size="Up to 75%",
    guide_accuracy="Smallest accuracy loss", guide_hardware="CPU, GPU (Android), EdgeTPU",
    formats=(Format.INT8_FLOAT_IO, Format.INT8_ONLY), size_factor=0.25,
    summary="Fine-tunes with quantization simulated in the forward pass, then converts to "
            "int8; recovers accuracy that post-training quantization loses.",
    color="#59a14f",
    action="quantization-aware training",
    hardware_note="Edge TPU and microcontrollers need the integer-only conversion "
                  "(qat+integer_only).",
    stages=(Stage(StageKind.QAT),),
    conversions=AFTER_QAT,
    size_class=SizeClass.INT8_LAYOUT,
)

"""Pruning-preserving quantization-aware training (PQAT): a collaborative optimization (TFMOT)."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family, TechniqueId
from optimizer.guide.targets import Format
from optimizer.guide.technique import Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_QAT, COMBINE
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id=TechniqueId.PQAT, title=N_("Pruning-preserving quantization-aware training (PQAT)"),
    family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
    guide_size=N_("Up to 75%, plus sparsity for compression"), guide_accuracy=N_("Close to QAT (TFMOT)"),
    guide_hardware=N_("CPU, GPU (Android), EdgeTPU"), formats=(Format.INT8_FLOAT_IO, Format.INT8_ONLY),
    size_factor=0.25,
    summary=N_("Prune, then QAT that keeps the zeros: an int8 model that also compresses."),
    action="pruning-preserving quantization-aware training",
    source=GUIDE_TFMOT,
    stages=(Stage(StageKind.PRUNING), Stage(StageKind.QAT, "sparsity")),
    conversions=AFTER_QAT,
    qat_scheme=COMBINE + "Default8BitPrunePreserveQuantizeScheme()",
)

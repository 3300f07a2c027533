"""Cluster-preserving quantization-aware training (CQAT): a collaborative optimization (TFMOT)."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family, TechniqueId
from optimizer.guide.targets import Format
from optimizer.guide.technique import Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_QAT, COMBINE
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id=TechniqueId.CQAT, title=N_("Cluster-preserving quantization-aware training (CQAT)"),
    family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
    guide_size=N_("Up to 75%, plus clustering for compression"), guide_accuracy=N_("Close to QAT (TFMOT)"),
    guide_hardware=N_("CPU, GPU (Android), EdgeTPU"), formats=(Format.INT8_FLOAT_IO, Format.INT8_ONLY),
    size_factor=0.25,
    summary=N_("Cluster, then QAT that keeps the clusters."),
    action="cluster-preserving quantization-aware training",
    source=GUIDE_TFMOT,
    stages=(Stage(StageKind.CLUSTERING), Stage(StageKind.QAT, "clusters")),
    conversions=AFTER_QAT,
    qat_scheme=COMBINE + "Default8BitClusterPreserveQuantizeScheme()",
)

"""Cluster-preserving quantization-aware training (CQAT): a collaborative optimization (TFMOT)."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family, TechniqueId
from optimizer.guide.targets import Format
from optimizer.guide.technique import Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_QAT, COMBINE

TECHNIQUE = TechniqueInfo(
    id=TechniqueId.CQAT, title="Cluster-preserving quantization-aware training (CQAT)",
    family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
    guide_size="Up to 75%, plus clustering for compression", guide_accuracy="Close to QAT (TFMOT)",
    guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(Format.INT8_FLOAT_IO, Format.INT8_ONLY),
    size_factor=0.25,
    summary="Cluster, then QAT that keeps the clusters.",
    action="cluster-preserving quantization-aware training",
    source=GUIDE_TFMOT,
    stages=(Stage(StageKind.CLUSTERING), Stage(StageKind.QAT, "clusters")),
    conversions=AFTER_QAT,
    qat_scheme=COMBINE + "Default8BitClusterPreserveQuantizeScheme()",
)

"""Cluster-preserving quantization-aware training (CQAT): a collaborative optimization (TFMOT)."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import Preserve, SizeClass, Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_QAT

TECHNIQUE = TechniqueInfo(
    id="cqat", order=110, title="Cluster-preserving quantization-aware training (CQAT)",
    family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
    guide_size="Up to 75%, plus clustering for compression", guide_accuracy="Close to QAT (TFMOT)",
    guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(Format.INT8_FLOAT_IO, Format.INT8_ONLY),
    size_factor=0.25,
    summary="Cluster, then QAT that keeps the clusters.",
    color="#17becf",
    action="cluster-preserving quantization-aware training",
    source=GUIDE_TFMOT,
    outside_tree="a collaborative optimization: clustering before quantization-aware "
                 "training, for a smaller compressed file at the cost of more fine-tuning; the "
                 "guide's tree stops at QAT",
    stages=(Stage(StageKind.CLUSTERING), Stage(StageKind.QAT, Preserve.CLUSTERS)),
    conversions=AFTER_QAT,
    size_class=SizeClass.INT8_LAYOUT,
)

"""Sparsity- and cluster-preserving quantization-aware training (PCQAT), collaborative (TFMOT)."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import Preserve, SizeClass, Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_QAT

TECHNIQUE = TechniqueInfo(
    id="pcqat", order=120, title="Sparsity- and cluster-preserving quantization-aware training (PCQAT)",
    family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
    guide_size="Up to 75%, plus sparsity and clustering for compression",
    guide_accuracy="Close to QAT (TFMOT)",
    guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(Format.INT8_FLOAT_IO, Format.INT8_ONLY),
    size_factor=0.25,
    summary="Prune, sparsity-preserving clustering, then QAT that keeps both.",
    color="#8c6bb1",
    action="sparsity- and cluster-preserving quantization-aware training",
    source=GUIDE_TFMOT,
    outside_tree="a collaborative optimization: pruning and clustering before "
                 "quantization-aware training, for the smallest compressed file at the cost of "
                 "the most fine-tuning; the guide's tree stops at QAT",
    stages=(Stage(StageKind.PRUNING), Stage(StageKind.CLUSTERING, Preserve.SPARSITY),
            Stage(StageKind.QAT, Preserve.SPARSITY_AND_CLUSTERS)),
    conversions=AFTER_QAT,
    size_class=SizeClass.INT8_LAYOUT,
)

"""Pruning-preserving quantization-aware training (PQAT): a collaborative optimization (TFMOT)."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import Preserve, SizeClass, Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_QAT

TECHNIQUE = TechniqueInfo(
    id="pqat", order=100, title="Pruning-preserving quantization-aware training (PQAT)",
    family=Family.COLLABORATIVE, data=DataNeed.LABELLED, retrains=True,
    guide_size="Up to 75%, plus sparsity for compression", guide_accuracy="Close to QAT (TFMOT)",
    guide_hardware="CPU, GPU (Android), EdgeTPU", formats=(Format.INT8_FLOAT_IO, Format.INT8_ONLY),
    size_factor=0.25,
    summary="Prune, then QAT that keeps the zeros: an int8 model that also compresses.",
    color="#bcbd22",
    action="pruning-preserving quantization-aware training",
    source=GUIDE_TFMOT,
    outside_tree="a collaborative optimization: pruning before quantization-aware training, "
                 "for a smaller compressed file at the cost of more fine-tuning; the guide's "
                 "tree stops at QAT",
    stages=(Stage(StageKind.PRUNING), Stage(StageKind.QAT, Preserve.SPARSITY)),
    conversions=AFTER_QAT,
    size_class=SizeClass.INT8_LAYOUT,
)

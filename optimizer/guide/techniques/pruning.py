"""Magnitude pruning while fine-tuning, stripped; float unless a conversion follows."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import (
    Combination,
    Preserve,
    SizeClass,
    Stage,
    StageKind,
    TechniqueInfo,
)
from optimizer.guide.techniques.conversions import AFTER_TRAINING
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id="pruning", order=80, title=N_("Magnitude pruning"), family=Family.TRAINING,
    data=DataNeed.LABELLED, retrains=True,
    guide_size=N_("Same size on disk; up to 6x smaller compressed (TFMOT)"),
    guide_accuracy=N_("Minimal loss of accuracy (TFMOT)"), guide_hardware=N_("As the float model"),
    formats=(Format.FLOAT32,), size_factor=None,
    summary=N_("Zeroes the lowest-magnitude weights while fine-tuning. Same size and latency on "
               "disk; pays off in download (compressed) size. Follow with a post-training "
               "quantization for both effects."),
    color="#9c755f",
    action=N_("magnitude pruning"),
    source=GUIDE_TFMOT,
    outside_tree=N_("not in the guide's quantization tree: pruning keeps the same size on disk "
                    "and the same latency, and only makes the file compress better (smaller "
                    "download); the guide's workflow adds it to shrink the model further"),
    stages=(Stage(StageKind.PRUNING),),
    conversions=AFTER_TRAINING,
    size_class=SizeClass.SAME_AS_CONVERSION,
    # pruning+clustering: sparsity-preserving clustering after pruning (TFMOT).
    combination=Combination("clustering", Stage(StageKind.CLUSTERING, Preserve.SPARSITY),
                            color="#edc948"),
)

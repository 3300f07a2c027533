"""Magnitude pruning while fine-tuning, stripped; float unless a conversion follows."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family, TechniqueId
from optimizer.guide.targets import Format
from optimizer.guide.technique import Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_TRAINING
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id=TechniqueId.PRUNING, title=N_("Magnitude pruning"), family=Family.TRAINING,
    data=DataNeed.LABELLED, retrains=True,
    guide_size=N_("Same size on disk; up to 6x smaller compressed (TFMOT)"),
    guide_accuracy=N_("Minimal loss of accuracy (TFMOT)"), guide_hardware=N_("As the float model"),
    formats=(Format.FLOAT32,), size_factor=None,
    summary=N_("Zeroes the lowest-magnitude weights while fine-tuning. Same size and latency on "
               "disk; pays off in download (compressed) size. Follow with a post-training "
               "quantization for both effects."),
    action="magnitude pruning",
    source=GUIDE_TFMOT,
    stages=(Stage(StageKind.PRUNING),),
    conversions=AFTER_TRAINING,
)

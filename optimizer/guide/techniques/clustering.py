"""Weight clustering while fine-tuning, stripped; float unless a conversion follows."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family, TechniqueId
from optimizer.guide.targets import Format
from optimizer.guide.technique import Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_TRAINING

TECHNIQUE = TechniqueInfo(
    id=TechniqueId.CLUSTERING, title="Weight clustering", family=Family.TRAINING,
    data=DataNeed.LABELLED, retrains=True,
    guide_size="Same size on disk; up to 5x smaller compressed (TFMOT)",
    guide_accuracy="Minimal loss of accuracy (TFMOT)", guide_hardware="As the float model",
    formats=(Format.FLOAT32,), size_factor=None,
    summary="Shares a few centroid values among each layer's weights while fine-tuning; "
            "compresses better, like pruning.",
    action="weight clustering",
    source=GUIDE_TFMOT,
    stages=(Stage(StageKind.CLUSTERING),),
    conversions=AFTER_TRAINING,
)

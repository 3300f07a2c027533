"""Weight clustering while fine-tuning, stripped; float unless a conversion follows."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family, TechniqueId
from optimizer.guide.targets import Format
from optimizer.guide.technique import Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_TRAINING
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id=TechniqueId.CLUSTERING, title=N_("Weight clustering"), family=Family.TRAINING,
    data=DataNeed.LABELLED, retrains=True,
    guide_size=N_("Same size on disk; up to 5x smaller compressed (TFMOT)"),
    guide_accuracy=N_("Minimal loss of accuracy (TFMOT)"), guide_hardware=N_("As the float model"),
    formats=(Format.FLOAT32,), size_factor=None,
    summary=N_("Shares a few centroid values among each layer's weights while fine-tuning; "
               "compresses better, like pruning."),
    action="weight clustering",
    source=GUIDE_TFMOT,
    stages=(Stage(StageKind.CLUSTERING),),
    conversions=AFTER_TRAINING,
)

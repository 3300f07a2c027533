"""Weight clustering while fine-tuning, stripped; float unless a conversion follows."""
from optimizer.guide.ids import GUIDE_TFMOT, DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import SizeClass, Stage, StageKind, TechniqueInfo
from optimizer.guide.techniques.conversions import AFTER_TRAINING
from optimizer.text import N_

TECHNIQUE = TechniqueInfo(
    id="clustering", order=90, title=N_("Weight clustering"), family=Family.TRAINING,
    data=DataNeed.LABELLED, retrains=True,
    guide_size=N_("Same size on disk; up to 5x smaller compressed (TFMOT)"),
    guide_accuracy=N_("Minimal loss of accuracy (TFMOT)"), guide_hardware=N_("As the float model"),
    formats=(Format.FLOAT32,), size_factor=None,
    summary=N_("Shares a few centroid values among each layer's weights while fine-tuning; "
               "compresses better, like pruning."),
    color="#ff9da7",
    action=N_("weight clustering"),
    source=GUIDE_TFMOT,
    outside_tree=N_("not in the guide's quantization tree: clustering keeps the same size on "
                    "disk and only makes the file compress better (smaller download); the "
                    "guide's workflow adds it to shrink the model further"),
    stages=(Stage(StageKind.CLUSTERING),),
    conversions=AFTER_TRAINING,
    size_class=SizeClass.SAME_AS_CONVERSION,
)

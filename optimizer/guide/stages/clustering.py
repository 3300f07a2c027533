"""The clustering stage: weight clustering while fine-tuning, then strip (TFMOT).

Its settings (``clustering.*``), the search's cluster counts and the reproduce script's block.
Per-channel clustering and sparsity-preserving clustering (after pruning) need TFMOT's
experimental ``cluster_weights``.
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.guide.stage import (
    Knob,
    Preserve,
    ScriptBlock,
    StageHandler,
    StageKind,
    finetune_words,
    fit_call,
)

#: ``clustering.init`` -> the name of TFMOT's ``CentroidInitialization`` member.
CENTROID_INITS = {"kmeans++": "KMEANS_PLUS_PLUS", "linear": "LINEAR",
                  "density": "DENSITY_BASED", "random": "RANDOM"}
#: Where TFMOT keeps its experimental ``cluster_weights`` (per channel, preserving sparsity).
EXPERIMENTAL = "tensorflow_model_optimization.python.core.clustering.keras.experimental"


@dataclass(frozen=True)
class ClusteringConfig:
    """Weight clustering: clusters per layer (or per channel) and centroid initialization."""

    clusters: int = 16
    init: str = "kmeans++"
    per_channel: bool = False

    def __post_init__(self):
        if not 2 <= int(self.clusters) <= 256:
            raise ValueError("clustering.clusters must be between 2 and 256 (16 is the usual "
                             "choice; 8 compresses more)")
        if self.init not in CENTROID_INITS:
            raise ValueError(f"clustering.init must be one of {', '.join(CENTROID_INITS)}")

    @property
    def tfmot_init(self) -> str:
        """The ``tfmot.clustering.keras.CentroidInitialization`` member name of ``init``."""
        return CENTROID_INITS[self.init]


def script(number: int, config: ClusteringConfig, finetune, stage) -> ScriptBlock:
    """The reproduce script's clustering block (experimental API when it preserves sparsity
    or clusters per channel)."""
    c = config
    preserve = stage.preserve == Preserve.SPARSITY
    head = f"init = tfmot.clustering.keras.CentroidInitialization.{c.tfmot_init}\n"
    imports = ()
    if preserve or c.per_channel:
        head += ("model = experimental_cluster.cluster_weights(\n"
                 f"    model, number_of_clusters={c.clusters}, cluster_centroids_init=init,\n"
                 f"    preserve_sparsity={preserve}, cluster_per_channel={bool(c.per_channel)})")
        imports = (f"from {EXPERIMENTAL} import (\n    cluster as experimental_cluster)",)
    else:
        head += ("model = tfmot.clustering.keras.cluster_weights(\n"
                 f"    model, number_of_clusters={c.clusters}, cluster_centroids_init=init)")
    title = "sparsity-preserving clustering" if preserve else "weight clustering"
    per_channel = " per channel" if c.per_channel else ""
    code = f'''
# --- Step {number}: {title}, {c.clusters} clusters{per_channel}
{head}
{fit_call(finetune)}
model = tfmot.clustering.keras.strip_clustering(model)
'''
    header = (f"{'sparsity-preserving ' if preserve else ''}weight clustering, {c.clusters} "
              f"clusters{per_channel}, {c.init} init ({finetune_words(finetune)}), strip")
    return ScriptBlock(code=code, header=header, imports=imports)


STAGE = StageHandler(
    kind=StageKind.CLUSTERING, label="clustering",
    apply="optimizer.engine.stage_steps:run_clustering",
    script=script, evidence="distinct weights", group="clustering", config=ClusteringConfig,
    knob=Knob(key="clustering.clusters", short="clusters", levels=(16, 8), low=2, high=256,
              integer=True, harsher="lower", cli_flag="--clusters",
              help="cluster counts (default 16,8)"),
    preserves=(None, Preserve.SPARSITY),
)

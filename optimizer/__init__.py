"""LiteRT model optimization, recommended, run for real and measured honestly.

This package is the library behind the Streamlit app and the ``python -m optimizer`` CLI. It
never imports streamlit, and importing it never imports TensorFlow: the heavy work runs in job
subprocesses (see ``optimizer.runs.background``). The names in ``__all__`` are the public
surface the app uses; the ones in ``_LAZY`` are imported on first use so that
``import optimizer`` stays cheap.
"""
from __future__ import annotations

from optimizer.guide.configs import (
    SETTING_KEYS,
    ClusteringConfig,
    FinetuneConfig,
    IoType,
    LatencyConfig,
    PruningConfig,
    PtqConfig,
    Settings,
)

# The decision tree and goals are pure Python and imported eagerly: a lazily bound name that
# equals its module's name (``recommend``) would be shadowed by the submodule once imported.
from optimizer.guide.goals import (
    AccuracyGoal,
    GoalCheck,
    GoalItem,
    Goals,
    LatencyGoal,
    McuBudget,
    SizeGoal,
    TargetGoal,
)
from optimizer.guide.precision import LayerPlan
from optimizer.guide.registry import (
    BASELINE,
    DATA_LABELS,
    GUIDE,
    TECHNIQUES,
    DataNeed,
    Family,
    TechniqueId,
    TechniqueInfo,
    TechniqueSpec,
    all_specs,
    parse_spec,
    technique,
)
from optimizer.guide.schema import Engine, Result, Status, results_frame
from optimizer.guide.targets import TARGET_LABELS, TARGETS, Target
from optimizer.lazy import lazy_getattr
from optimizer.recommendation.decide import (
    AccuracyPriority,
    Answers,
    Effort,
    Exclusion,
    PathStep,
    Recommendation,
    SizeReduction,
    UnlockOption,
    recommend,
)
from optimizer.recommendation.tree import (
    PTQ_TREE,
    QUANT_TREE,
    QUANT_TREE_FOOTNOTE,
    DecisionTree,
    NodeKind,
    TreeNode,
)

_LAZY = {
    "Dataset": "optimizer.models.dataset",
    # built-in demos
    "DemoSpec": "optimizer.models.demos",
    "list_demos": "optimizer.models.demos",
    "get_demo": "optimizer.models.demos",
    # runs as background jobs
    "RunRequest": "optimizer.runs.request",
    "RunState": "optimizer.runs.background",
    "TechniqueProgress": "optimizer.runs.background",
    "start_run": "optimizer.runs.background",
    "prewarm": "optimizer.runs.warm",
    "read_run": "optimizer.runs.background",
    "cancel_run": "optimizer.runs.background",
    "list_runs": "optimizer.runs.background",
    "cluster_status": "optimizer.runs.cluster",
    "demo_names": "optimizer.models.demos",
    # models (demos and files)
    "resolve_model": "optimizer.models.resolve",
    "ModelBundle": "optimizer.models.resolve",
    # model cards
    "describe_model": "optimizer.models.cards",
    # measuring (LiteRT only, no TensorFlow)
    "tflite_facts": "optimizer.measuring.facts",
    "TfliteFacts": "optimizer.measuring.facts",
    "measure_latency": "optimizer.measuring.latency",
    "LatencyStats": "optimizer.measuring.latency",
    "host_description": "optimizer.measuring.latency",
    # will a variant run on the target hardware (issue 12)
    "Readiness": "optimizer.measuring.readiness",
    "check_readiness": "optimizer.measuring.readiness",
    "check_variants": "optimizer.runs.readiness",
    "with_readiness": "optimizer.runs.readiness",
    "run_data": "optimizer.runs.readiness",
    # reproducing a result with the public APIs
    "reproduce_script": "optimizer.report.reproduce",
    "reproduce_from_recipe": "optimizer.report.reproduce",
    "read_recipe": "optimizer.report.reproduce",
    # budget-driven search and per-layer repair (issue 5)
    "SearchRequest": "optimizer.search.request",
    "plan_candidates": "optimizer.search.candidates",
    "run_search": "optimizer.search.loop",
    "SearchOutcome": "optimizer.search.explain",
    "SearchState": "optimizer.search.background",
    "start_search": "optimizer.search.background",
    "read_search": "optimizer.search.background",
    "stop_search": "optimizer.search.background",
    "start_repair": "optimizer.search.background",
    "list_searches": "optimizer.search.background",
    "layer_reports": "optimizer.search.layers",
    # bring your own model and data, checked in a sandbox process (issue 4)
    "PreparedUpload": "optimizer.models.uploads",
    "DataOptions": "optimizer.models.uploads",
    "UploadError": "optimizer.models.uploads",
    "prepare_upload": "optimizer.models.uploads",
    "run_check": "optimizer.models.uploads",
    "accept_upload": "optimizer.models.uploads",
    # runs that last (issue 11): names without server paths, damaged files, history, cache
    "model_label": "optimizer.models.labels",
    "public_record": "optimizer.report.public",
    "new_run_id": "optimizer.artifacts.history",
    "cached_result": "optimizer.workspace.cache",
    "servable_results": "optimizer.workspace.cache",
    "workspace_runs": "optimizer.workspace.index",
    "shared_folder": "optimizer.workspace.index",
    "delete_run": "optimizer.workspace.index",
    # links that only read (issue 20): a shared run copied into the viewer's own workspace
    "copy_run": "optimizer.workspace.copies",
}


__getattr__ = lazy_getattr("optimizer", _LAZY, globals())


__all__ = [
    "ClusteringConfig", "FinetuneConfig", "IoType", "LatencyConfig", "PruningConfig", "PtqConfig",
    "Settings", "SETTING_KEYS",
    "BASELINE", "DATA_LABELS", "GUIDE", "TARGET_LABELS", "TECHNIQUES", "DataNeed", "Family", "Target",
    "TechniqueId", "TechniqueInfo", "TechniqueSpec", "all_specs", "parse_spec", "technique",
    "Engine", "Result", "Status", "results_frame", "LayerPlan",
    "AccuracyGoal", "GoalCheck", "GoalItem", "Goals", "LatencyGoal", "McuBudget", "SizeGoal",
    "TargetGoal", "TARGETS",
    "AccuracyPriority", "Answers", "Effort", "Exclusion", "PathStep", "Recommendation",
    "SizeReduction", "UnlockOption", "recommend",
    "PTQ_TREE", "QUANT_TREE", "QUANT_TREE_FOOTNOTE", "DecisionTree", "NodeKind", "TreeNode",
    *_LAZY,
]

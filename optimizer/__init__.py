"""LiteRT model optimization, recommended, run for real and measured honestly.

This package is the library behind the Streamlit app and the ``python -m optimizer`` CLI. It
never imports streamlit, and importing it never imports TensorFlow: the heavy work runs in job
subprocesses (see ``optimizer.jobs``). The names in ``__all__`` are the public surface the app
uses; the ones in ``_LAZY`` are imported on first use so that ``import optimizer`` stays cheap.
"""
from __future__ import annotations


from .lazy import lazy_getattr
from .configs import (SETTING_KEYS, ClusteringConfig, FinetuneConfig, IoType, LatencyConfig,
                      PruningConfig, PtqConfig, Settings)
from .registry import (DATA_LABELS, GUIDE, TARGET_LABELS, TECHNIQUES, DataNeed, Family, Target,
                       TechniqueId, TechniqueInfo, TechniqueSpec, parse_spec, technique)
from .schema import Engine, Result, Status, results_frame
# The decision tree and goals are pure Python and imported eagerly: a lazily bound name that
# equals its module's name (``recommend``) would be shadowed by the submodule once imported.
from .goals import AccuracyGoal, GoalCheck, GoalItem, Goals, LatencyGoal, SizeGoal
from .recommend import (AccuracyPriority, Answers, Effort, Exclusion, PathStep, Recommendation,
                        SizeReduction, UnlockOption, recommend)
from .tree import PTQ_TREE, QUANT_TREE, QUANT_TREE_FOOTNOTE, DecisionTree, NodeKind, TreeNode

_LAZY = {
    "Dataset": "optimizer.data",
    # built-in demos
    "DemoSpec": "optimizer.demos",
    "list_demos": "optimizer.demos",
    "get_demo": "optimizer.demos",
    # runs as background jobs
    "RunRequest": "optimizer.jobs",
    "RunState": "optimizer.jobs",
    "TechniqueProgress": "optimizer.jobs",
    "start_run": "optimizer.jobs",
    "read_run": "optimizer.jobs",
    "cancel_run": "optimizer.jobs",
    "list_runs": "optimizer.jobs",
    "demo_names": "optimizer.demos",
    # models (demos and files)
    "resolve_model": "optimizer.models",
    "ModelBundle": "optimizer.models",
    # model cards
    "describe_model": "optimizer.cards",
    # measuring (LiteRT only, no TensorFlow)
    "tflite_facts": "optimizer.tflite_facts",
    "TfliteFacts": "optimizer.tflite_facts",
    "measure_latency": "optimizer.latency",
    "LatencyStats": "optimizer.latency",
    "host_description": "optimizer.latency",
    # reproducing a result with the public APIs
    "reproduce_script": "optimizer.reproduce",
    # budget-driven search and per-layer repair (issue 5)
    "SearchRequest": "optimizer.search.request",
    "plan_candidates": "optimizer.search.candidates",
    "run_search": "optimizer.search.loop",
    "SearchOutcome": "optimizer.search.explain",
    "SearchState": "optimizer.search.jobs",
    "start_search": "optimizer.search.jobs",
    "read_search": "optimizer.search.jobs",
    "stop_search": "optimizer.search.jobs",
    "start_repair": "optimizer.search.jobs",
    "list_searches": "optimizer.search.jobs",
    "layer_reports": "optimizer.search.layers",
    # bring your own model and data, checked in a sandbox process (issue 4)
    "PreparedUpload": "optimizer.uploads",
    "DataOptions": "optimizer.uploads",
    "UploadError": "optimizer.uploads",
    "prepare_upload": "optimizer.uploads",
    "run_check": "optimizer.uploads",
    "accept_upload": "optimizer.uploads",
}


__getattr__ = lazy_getattr("optimizer", _LAZY, globals())


__all__ = [
    "ClusteringConfig", "FinetuneConfig", "IoType", "LatencyConfig", "PruningConfig", "PtqConfig",
    "Settings", "SETTING_KEYS",
    "DATA_LABELS", "GUIDE", "TARGET_LABELS", "TECHNIQUES", "DataNeed", "Family", "Target",
    "TechniqueId", "TechniqueInfo", "TechniqueSpec", "parse_spec", "technique",
    "Engine", "Result", "Status", "results_frame",
    "AccuracyGoal", "GoalCheck", "GoalItem", "Goals", "LatencyGoal", "SizeGoal",
    "AccuracyPriority", "Answers", "Effort", "Exclusion", "PathStep", "Recommendation",
    "SizeReduction", "UnlockOption", "recommend",
    "PTQ_TREE", "QUANT_TREE", "QUANT_TREE_FOOTNOTE", "DecisionTree", "NodeKind", "TreeNode",
    *_LAZY,
]

"""LiteRT model optimization, recommended, run for real and measured honestly.

This package is the library behind the Streamlit app and the ``python -m optimizer`` CLI. It
never imports streamlit, and importing it never imports TensorFlow: the heavy work runs in job
subprocesses (see ``optimizer.jobs``). The names below are the public surface the app uses.
"""
from .configs import (ClusteringConfig, FinetuneConfig, IoType, LatencyConfig, PruningConfig,
                      PtqConfig, Settings, SETTING_KEYS)
from .registry import (DATA_LABELS, GUIDE, TARGET_LABELS, TECHNIQUES, DataNeed, Family, Target,
                       TechniqueId, TechniqueInfo, TechniqueSpec, parse_spec, technique)
from .schema import Engine, Result, Status, results_frame

__all__ = [
    "ClusteringConfig", "FinetuneConfig", "IoType", "LatencyConfig", "PruningConfig", "PtqConfig",
    "Settings", "SETTING_KEYS",
    "DATA_LABELS", "GUIDE", "TARGET_LABELS", "TECHNIQUES", "DataNeed", "Family", "Target",
    "TechniqueId", "TechniqueInfo", "TechniqueSpec", "parse_spec", "technique",
    "Engine", "Result", "Status", "results_frame",
]

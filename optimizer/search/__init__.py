"""Budget-driven search over techniques, and per-layer repair of quantization error (issue 5).

Light on import (no TensorFlow, no pandas): the app and the CLI import it freely.

* ``candidates`` -- what a target allows, with knobs, in batches ordered cheap to expensive;
* ``loop`` -- the search loop over a pluggable evaluator (``run_search``), using ``rules``
  (what cannot win, what fits the time left), ``pareto`` and ``explain``;
* ``engine`` -- the real evaluator: job processes like ``python -m optimizer run``;
* ``background`` -- a search as a background process: start, read, stop (the app's API);
* ``layers`` -- reading per-layer error reports written by ``engine.layer_error``.
"""
from __future__ import annotations

from optimizer.lazy import lazy_getattr

_LAZY = {
    "SearchRequest": "optimizer.search.request",
    "SIZE_MEASURES": "optimizer.search.request",
    "Candidate": "optimizer.search.candidates",
    "Batch": "optimizer.search.candidates",
    "CandidatePlan": "optimizer.search.candidates",
    "plan_candidates": "optimizer.search.candidates",
    "post_training_specs": "optimizer.search.candidates",
    "trial_spec": "optimizer.search.candidates",
    "split_trial": "optimizer.search.candidates",
    "REPAIR_ID": "optimizer.search.candidates",
    "REPAIR_BASE": "optimizer.search.candidates",
    "run_search": "optimizer.search.loop",
    "BatchContext": "optimizer.search.loop",
    "BatchReport": "optimizer.search.loop",
    "SearchOutcome": "optimizer.search.explain",
    "Skip": "optimizer.search.rules",
    "pareto_front": "optimizer.search.pareto",
    "SearchState": "optimizer.search.background",
    "start_search": "optimizer.search.background",
    "read_search": "optimizer.search.background",
    "stop_search": "optimizer.search.background",
    "start_repair": "optimizer.search.background",
    "list_searches": "optimizer.search.background",
    "layer_reports": "optimizer.search.layers",
    "read_layer_report": "optimizer.search.layers",
    "sensitivity_reports": "optimizer.search.layers",
    "execute_search": "optimizer.search.runner",
    "execute_repair": "optimizer.search.runner",
}


__getattr__ = lazy_getattr("optimizer.search", _LAZY, globals())

__all__ = list(_LAZY)

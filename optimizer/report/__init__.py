"""Figures, tables, notes and downloads built from measured results (plotly, pandas; no streamlit).

Pages import these names from ``optimizer.report``; each submodule is imported on first use
so that importing the package does not load plotly until a figure is drawn.
"""
from __future__ import annotations

from optimizer.lazy import lazy_getattr

_LAZY = {
    "accuracy_size_figure": "optimizer.report.charts",
    "accuracy_latency_figure": "optimizer.report.charts",
    "size_bars_figure": "optimizer.report.charts",
    "compare_figure": "optimizer.report.compare",
    "goal_checks": "optimizer.report.judge",
    "accuracy_budget": "optimizer.report.judge",
    "baseline_of": "optimizer.report.judge",
    "tree_figure": "optimizer.report.tree_chart",
    "Insight": "optimizer.report.insights",
    "result_insights": "optimizer.report.insights",
    "insights_for": "optimizer.report.insights",
    "run_insights": "optimizer.report.insights",
    "agreement": "optimizer.report.insights",
    "render_insight": "optimizer.report.insight_text",
    "stored_insights": "optimizer.report.verdict",
    "recommended_of": "optimizer.report.verdict",
    "context_of": "optimizer.report.verdict",
    "evaluate_run": "optimizer.report.verdict",
    "run_verdict": "optimizer.report.verdict",
    "RunVerdict": "optimizer.report.verdict",
    "best_label": "optimizer.report.verdict",
    "best_variant": "optimizer.report.judge",
    "fmt_ms": "optimizer.numbers",
    "fmt_sig": "optimizer.numbers",
    "results_table": "optimizer.report.table",
    "frame_front": "optimizer.report.pareto",
    "readiness_rows": "optimizer.report.readiness",
    "readiness_ops": "optimizer.report.readiness",
    "readiness_cell": "optimizer.report.readiness",
    "key_table": "optimizer.report.table",
    "places_of": "optimizer.report.table",
    "key_table_html": "optimizer.report.table",
    "report_html": "optimizer.report.handover",
    "technique_color": "optimizer.report.style",
    "published_table": "optimizer.report.published",
    "PUBLISHED_SOURCE": "optimizer.report.published",
    "TABLE_2_SOURCE": "optimizer.report.published",
    "table_1_source": "optimizer.report.published",
    "table_2_source": "optimizer.report.published",
    "published_table_2": "optimizer.report.published",
    "measured_beside_table_1": "optimizer.report.published",
    "table1_measured": "optimizer.report.published",
    "guide_techniques_table": "optimizer.report.published",
    "results_csv": "optimizer.report.downloads",
    "technique_zip": "optimizer.report.downloads",
    "safe_name": "optimizer.report.downloads",
    "rebuilt_keras_model": "optimizer.report.downloads",
    "REBUILT_NAME": "optimizer.report.downloads",
    # the goal-driven search and its per-layer int8 repair
    "trials_figure": "optimizer.report.search_charts",
    "trials_table": "optimizer.report.search_charts",
    "skipped_table": "optimizer.report.search_charts",
    "layer_error_figure": "optimizer.report.layer_charts",
    "layer_options": "optimizer.report.layer_charts",
    "repair_rows": "optimizer.report.layer_charts",
    "attempt_rows": "optimizer.report.layer_charts",
    # the precision per layer: int8, int16 or float, measured before choosing
    "sensitivity_rows": "optimizer.report.precision_table",
    "sensitivity_summary": "optimizer.report.precision_table",
    "plan_rows": "optimizer.report.precision_table",
}


__getattr__ = lazy_getattr("optimizer.report", _LAZY, globals())

__all__ = list(_LAZY)

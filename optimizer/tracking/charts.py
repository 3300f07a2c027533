"""A run's charts as image files for an experiment tracker.

The charts are the Results page's (``report.charts``: accuracy against size, accuracy against
latency, sizes) and, for a search, its trials chart. They are written as PNG with plotly's
image export (kaleido, which drives the system's Chromium: measured to work offline here,
about 7 s for three charts, most of it Chromium's start). When that cannot run (kaleido not
installed, no Chromium) each chart is written as plotly's figure JSON instead, and the note
says why: nothing is lost, and the report HTML logged beside them draws them interactively.
"""
from __future__ import annotations

from pathlib import Path

from optimizer.report.verdict import context_of


def figures(folder, results, outcome=None) -> list[tuple]:
    """``[(file stem, plotly figure), ..]`` for the run in ``folder``."""
    from optimizer.guide.schema import results_frame
    from optimizer.report.charts import (
        accuracy_latency_figure,
        accuracy_size_figure,
        size_bars_figure,
    )
    from optimizer.report.judge import accuracy_budget, goals_basis

    _answers, goals = context_of(folder)
    frame = results_frame(results)
    budget = accuracy_budget(results, goals)
    # on the size the run's goals judge, as the Results page shows it by default
    out = [("accuracy-vs-size", accuracy_size_figure(frame, size=goals_basis(goals),
                                                     budget=budget)),
           ("accuracy-vs-latency", accuracy_latency_figure(frame, budget=budget)),
           ("sizes", size_bars_figure(frame))]
    if outcome is not None:
        from optimizer.report.search_charts import trials_figure

        out.append(("search-trials", trials_figure(outcome)))
    return out


def write_charts(charts, out_dir: Path) -> tuple[list[Path], str | None]:
    """Write ``charts`` into ``out_dir`` as PNG; ``(files, None)``, or when PNG export cannot
    run, the charts as JSON with ``(files, why)``."""
    import plotly.io as pio

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / f"{stem}.png" for stem, _fig in charts]
    try:
        pio.write_images([fig for _stem, fig in charts], files, width=900, height=560)
        if all(f.is_file() and f.stat().st_size > 0 for f in files):
            return files, None
        why = "the image export wrote no file"
    except Exception as exc:   # noqa: BLE001 - any failure of the optional exporter
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    for f in files:
        f.unlink(missing_ok=True)
    files = []
    for stem, fig in charts:
        path = out_dir / f"{stem}.plotly.json"
        path.write_text(fig.to_json(), encoding="utf-8")
        files.append(path)
    return files, f"PNG export could not run ({why}); the charts are plotly JSON instead"

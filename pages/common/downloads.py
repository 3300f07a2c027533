"""The Results page's downloads: a zip per technique, the CSV, and a reproduce script."""
from __future__ import annotations

from functools import partial

import streamlit as st

from optimizer import read_recipe, reproduce_from_recipe
from optimizer.report import (
    REBUILT_NAME,
    rebuilt_keras_model,
    report_html,
    results_csv,
    safe_name,
    technique_zip,
)
from optimizer.text import current_language, tr, use_language

from . import layout, state

PER_ROW = 4


def reproduce_text(result, model_path: str = "model.h5") -> str:
    """A short standalone script that redoes ``result``'s technique with tf_keras / TFMOT /
    TFLite, written from the run's own ``recipe.json`` (its fine-tuning, loss and settings)."""
    if not result.recipe_path:
        raise ValueError(tr("{technique} has no recipe.json; run it again to write one",
                            technique=result.technique))
    return reproduce_from_recipe(read_recipe(result.recipe_path), model_path=model_path)


def _zip_with_rebuilt(result, rebuilt) -> bytes | None:
    """A technique's zip; for a Keras 3 upload it also holds the rebuilt tf_keras model."""
    return technique_zip(result, {REBUILT_NAME: rebuilt.read_bytes()} if rebuilt else None)


def _report(run_dir, lang: str) -> bytes:
    """The hand-over report in ``lang``: the page's language when the button was drawn (the
    download may be built outside the page's run, where another language is in use)."""
    with use_language(lang):
        return report_html(run_dir).encode("utf-8")


def render(run, frame) -> None:
    """Download buttons for one run: per-technique zips, results CSV and reproduce script.

    The zips are built only when clicked (a callable), so big models cost nothing per rerun.
    """
    model = run.model or "model"
    rebuilt = rebuilt_keras_model(run.request.model if run.request else None)
    ok = [r for r in run.results if r.ok and r.tflite_path]
    rows = [ok[i:i + PER_ROW] for i in range(0, len(ok), PER_ROW)]
    for row in rows:
        cols = st.columns(PER_ROW)
        for col, result in zip(cols, row):
            col.download_button(
                f"{result.technique}.zip", data=partial(_zip_with_rebuilt, result, rebuilt),
                help=tr(".tflite model, its recipe JSON and the measured result"),
                file_name=f"{safe_name(model)}-{safe_name(result.technique)}.zip",
                mime="application/zip", key=f"dl_{result.technique}", on_click="ignore",
                icon=":material/download:", width="stretch")
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.download_button(tr("Download report"),
                           data=partial(_report, run.run_dir, current_language()),
                           help=tr("One HTML file that opens offline: answers, recommendation, "
                                   "results, charts (PNG export), insights, how it was "
                                   "measured"),
                           file_name=f"{safe_name(model)}-report.html", mime="text/html",
                           key="dl_report", on_click="ignore", icon=":material/summarize:",
                           type="primary")
        st.download_button(tr("Results table (CSV)"), data=results_csv(frame),
                           file_name=f"{safe_name(model)}-results.csv", mime="text/csv",
                           key="dl_csv", on_click="ignore", icon=":material/table:")
    with right:
        by_technique = {r.technique: r for r in ok if not r.is_baseline}
        choices = list(by_technique)
        if not choices:
            return
        preferred = (state.get(state.RUN_SPECS) or [None])[0]
        pick = st.selectbox(tr("Reproduce one optimization in your own code"), choices,
                            index=choices.index(preferred) if preferred in choices else 0,
                            key="dl_reproduce_pick")
        try:
            script = reproduce_text(by_technique[pick],
                                    model_path=REBUILT_NAME if rebuilt else "model.h5")
        except Exception as exc:  # noqa: BLE001 - the rest of the page still works
            layout.show_error(exc, tr("Writing the reproduce script"))
            return
        st.download_button(f"reproduce_{safe_name(pick)}.py", data=script,
                           file_name=f"reproduce_{safe_name(pick)}.py", mime="text/x-python",
                           key="dl_script", on_click="ignore", icon=":material/code:")
        if rebuilt is not None:
            # fix 10: the script loads the tf_keras model the app rebuilt, not the Keras 3 file
            st.download_button(REBUILT_NAME, data=partial(rebuilt.read_bytes),
                               help=tr("Your Keras 3 model rebuilt in tf_keras (TFMOT needs it); "
                                       "the script above loads this file"),
                               file_name=REBUILT_NAME, mime="application/octet-stream",
                               key="dl_rebuilt", on_click="ignore", icon=":material/download:")
        with st.expander(tr("Show the script")):
            st.code(script, language="python")

"""The Results page's verdict pieces: "try other goals" (a view, never the record), the banner
on the guide's recommendation and the per-variant goal labels -- all read from one
``RunVerdict`` (``optimizer.report.run_verdict``), never re-derived here."""
from __future__ import annotations

import streamlit as st

from optimizer.report import baseline_of

from . import layout
from . import questions as q

#: The icon of each goal state (``optimizer.GoalState`` values).
ICONS = {"met": ":material/check_circle:", "missed": ":material/cancel:",
         "within_noise": ":material/approximately_equal:",
         "not_checked": ":material/hourglass_empty:"}
_LABELS = {"met": ":green[meets the goals]", "missed": ":red[{summary}]",
           "within_noise": ":orange[{summary}]", "not_checked": ":gray[{summary}]"}


def check_label(check) -> str:
    """" — meets the goals" / " — misses the accuracy goal" / ... for an expander title."""
    if check is None:
        return ""
    return " — " + _LABELS[check.state.value].format(summary=layout.plain(check.summary))


def try_other_goals(own_goals, results, key: str):
    """A toggle and a small form: other goals to judge this run by, in this view only (the
    run's ``request.json`` keeps the goals it was made for). Returns those goals or None."""
    if not st.toggle("Judge by other goals (this view only)", key=f"{key}_on",
                     help="Judge this run by other goals in this view only; the run keeps the "
                          "goals it was run with."):
        return None
    saved = q.goal_form_defaults(own_goals) if own_goals is not None else \
        q.goal_form_defaults(_empty_goals())
    base = baseline_of(results)
    target = own_goals.target.target if own_goals is not None and own_goals.target else "cpu"
    c1, c2, c3, c4 = st.columns(4)
    drop = c1.number_input("Largest accuracy drop (points)", min_value=0.0, max_value=100.0,
                           value=float(saved["drop"]), step=0.5, key=f"{key}_drop")
    ratio = c2.number_input("At least … x smaller (0 = none)", min_value=0.0,
                            value=float(saved["size_value"]) if saved["size_kind"] == "ratio"
                            else 0.0, step=0.5, key=f"{key}_ratio")
    compressed = c3.checkbox("Judge the gzip size", value=saved["compressed"],
                             key=f"{key}_gzip")
    latency = c4.number_input("Latency at most (ms, 0 = none)", min_value=0.0,
                              value=float(saved["latency_ms"]), step=0.1, key=f"{key}_latency")
    try:
        return q.goals_from_form(drop, saved["drop_mode"], "ratio" if ratio else "none", ratio,
                                 compressed, latency,
                                 higher_is_better=base is None or bool(base.higher_is_better),
                                 target=target, must_be_ready=own_goals is not None
                                 and own_goals.target is not None,
                                 ram_kb=saved["ram_kb"], flash_kb=saved["flash_kb"])
    except ValueError as exc:
        layout.show_error(exc, "Trying other goals")
        return None


def _empty_goals():
    from optimizer import Goals

    return Goals()


def agreement_banner(verdict) -> None:
    """The banner on the guide's recommendation, from ``verdict.agreement``."""
    rec = verdict.recommended
    if rec is None or verdict.agreement is None:
        return
    name = layout.plain(rec)
    if verdict.agreement == "agreed":
        st.success(f"The measurements agreed with the guide's recommendation, `{rec}`: it was "
                   "measured and compared, and nothing measured contradicts it.",
                   icon=":material/thumb_up:")
    elif verdict.agreement == "disagreed":
        st.warning(f"**The measurements disagree with the guide's recommendation, `{rec}`.**\n\n"
                   + "\n\n".join(layout.plain(n.text) for n in verdict.against),
                   icon=":material/rule:")
    elif verdict.agreement == "pending":
        st.info(f"Nothing measured so far contradicts the guide's recommendation, `{rec}`, but "
                f"{name}'s readiness for the target is not checked yet: check it below.",
                icon=":material/hourglass_empty:")
    elif verdict.agreement == "not_measured":
        st.warning(f"The guide's recommendation, `{rec}`, has no measurement in this run (it "
                   "failed or was not run), so the measurements can neither agree nor disagree "
                   "with it.", icon=":material/help:")
    else:
        st.info(f"The guide's recommendation, `{rec}`, was measured, but nothing else was "
                "measured to compare it with.", icon=":material/info:")

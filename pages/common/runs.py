"""Starting and finding this session's runs (the one place the pages call ``start_run``)."""
from __future__ import annotations

from pathlib import Path

from optimizer import (
    RunRequest,
    list_runs,
    new_run_id,
    parse_spec,
    shared_folder,
    start_run,
)
from optimizer import all_specs as registry_specs

from . import state


def all_specs() -> list[str]:
    """Every technique spec a user can pick, grouped: post-training, then each retraining
    technique followed by its ``+conversion`` variants (from the technique registry)."""
    return list(registry_specs())


def planned_specs(recommendation) -> list[str]:
    """What to run by default: the recommended spec plus the cheap post-training alternatives.

    Post-training variants share the baseline's frozen graph, so they cost seconds; retraining
    alternatives are left for the user to add.
    """
    picked = [recommendation.run_spec] if recommendation.run_spec else []
    for alt in recommendation.alternatives:
        spec = parse_spec(alt)
        if spec.is_post_training and alt not in picked:
            picked.append(spec.text)
    return picked[:4]


def launch(specs: list[str], use_cache: bool = True) -> Path:
    """Start a run of ``specs`` (the float32 baseline is always added) for this session's model.

    The run folder is ``<workspace>/sessions/<session>/runs/<time>-<id>`` and is remembered in
    session state; raises ``ValueError`` (from the library) for an unusable model or spec.
    """
    techniques = tuple(s for s in specs if s != "float32") or ("float32",)
    request = RunRequest(model=state.get(state.MODEL), techniques=techniques,
                         data=state.get(state.DATA))
    context = {"answers": state.answers().to_dict(), "goals": state.goals().to_dict()}
    run_dir = start_run(request, state.runs_dir() / new_run_id(), use_cache=use_cache,
                        context=context)
    state.put(state.RUN_DIR, str(run_dir))
    return run_dir


def session_runs() -> list:
    """This session's runs, newest first (``RunState`` records read from disk)."""
    return list_runs(state.runs_dir())


#: The query parameter of a run's share link (``/results?run=<id>``).
RUN_PARAM = "run"


def linked_run() -> Path | None:
    """The run a ``?run=<id>`` link names (anyone with the link may read it), or None; a
    link that names nothing says so once."""
    import streamlit as st

    run_id = st.query_params.get(RUN_PARAM)
    if not run_id:
        return None
    folder = shared_folder(run_id)
    if folder is None:
        st.warning("This run link does not open a run: it was mistyped or the run was "
                   "deleted. Showing this workspace's runs instead.", icon=":material/link_off:")
    return folder


def share_path(run_dir) -> str:
    """The page address that opens a run read-only: ``/results?run=<id>``."""
    from .nav import RESULTS

    return f"/{RESULTS.url}?{RUN_PARAM}={Path(run_dir).name}"

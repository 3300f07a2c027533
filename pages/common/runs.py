"""Starting and finding this session's runs (the one place the pages call ``start_run``)."""
from __future__ import annotations

from pathlib import Path

from optimizer import (
    BASELINE,
    RunRequest,
    access,
    cached_result,
    copy_run,
    list_runs,
    new_run_id,
    parse_spec,
    read_run,
    servable_results,
    shared_folder,
    start_run,
)
from optimizer import all_specs as registry_specs
from optimizer.text import tr

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


def planned_request(specs: list[str]) -> RunRequest:
    """The request a run of ``specs`` on this session's model and data would make, with the
    answers and goals it is judged by."""
    answers = state.answers()
    techniques = tuple(s for s in specs if s != BASELINE) or (BASELINE,)
    return RunRequest.from_goals(state.goals(), answers.target, model=state.get(state.MODEL),
                                 techniques=techniques, data=state.get(state.DATA),
                                 answers=answers)


def cached(specs: list[str], shown=None) -> dict | None:
    """``{"measured_at", "measured_on", "cache_key"}`` of an identical run already measured on
    this server (what "Open the cached result" opens), or None; never raises. None too when
    ``shown`` (the run on the page) is already those results: a sound finished run with the
    same key."""
    try:
        offer = cached_result(planned_request(specs))
    except Exception:  # noqa: BLE001 - no cached result to offer: the page offers a run
        return None
    if offer and shown is not None and shown.status == "finished" and \
            shown.extra.get("cache_key") == offer["cache_key"] and servable_results(shown.results):
        return None
    return offer


def launch(specs: list[str], use_cache: bool = True) -> Path:
    """Start a run of ``specs`` (the float32 baseline is always added) for this session's model,
    recording the session's answers and goals in its ``request.json`` (they judge its results).

    ``use_cache=False`` measures every technique again ("Run again"); with the cache an
    identical run measured before is served at once ("Open the cached result"). The run folder
    is ``<workspace>/sessions/<session>/runs/<time>-<id>`` and is remembered in session state;
    raises ``ValueError`` (from the library) for an unusable model or spec.
    """
    request = planned_request(specs)
    run_dir = start_run(request, state.runs_dir() / new_run_id(), use_cache=use_cache)
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
        st.warning(tr("This run link does not open a run: it was mistyped or the run was "
                      "deleted. Showing this workspace's runs instead."),
                   icon=":material/link_off:")
    return folder


def read_only(folder) -> bool:
    """True when this browser's workspace may only read ``folder`` (another workspace's run,
    opened from its share link): the page then offers no control that writes or starts work."""
    return folder is not None and not access.may_change(folder, state.get(state.SESSION_ID))


def copy_to_workspace(folder) -> Path:
    """Copy a shared run into this workspace as a run of its own and make it the current run,
    with its model, data and techniques, so the journey goes on from there."""
    from optimizer.models.uploads import current_upload

    copy = copy_run(folder, state.get(state.SESSION_ID))
    request = read_run(copy).request
    if request is not None:
        state.put(state.MODEL, request.model)
        state.put(state.DATA, request.data)
        state.put(state.RUN_SPECS, [s for s in request.specs if s != BASELINE] or None)
        state.put(state.UPLOAD, request.model if current_upload(request.model) else None)
    state.put(state.RUN_DIR, str(copy))
    return copy


def share_path(run_dir) -> str:
    """The page address that opens a run read-only: ``/results?run=<id>``."""
    from .nav import RESULTS

    return f"/{RESULTS.url}?{RUN_PARAM}={Path(run_dir).name}"

"""Starting and finding this session's runs (the one place the pages call ``start_run``)."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

from optimizer import TECHNIQUES, Family, RunRequest, list_runs, parse_spec, start_run

from . import state


def all_specs() -> list[str]:
    """Every technique spec a user can pick, grouped: post-training, then each retraining
    technique followed by its +ptq / +integer_only variants."""
    ptq = [t.value for t, info in TECHNIQUES.items() if info.family == Family.POST_TRAINING]
    out = list(ptq)
    for base in ("qat", "pruning", "clustering", "pruning+clustering", "pqat", "cqat", "pcqat"):
        suffixes = ("integer_only",) if "qat" in base else ptq
        out += [base] + [f"{base}+{p}" for p in suffixes]
    return [parse_spec(text).text for text in out]


def planned_specs(recommendation) -> list[str]:
    """What to run by default: the recommended spec plus the cheap post-training alternatives.

    Post-training variants share the baseline's frozen graph, so they cost seconds; retraining
    alternatives are left for the user to add.
    """
    picked = [recommendation.run_spec] if recommendation.run_spec else []
    for alt in recommendation.alternatives:
        spec = parse_spec(alt)
        if not spec.retrains and alt not in picked and spec.text != "float32":
            picked.append(spec.text)
    return picked[:4]


def launch(specs: list[str]) -> Path:
    """Start a run of ``specs`` (the float32 baseline is always added) for this session's model.

    The run folder is ``<workspace>/sessions/<session>/runs/<time>-<id>`` and is remembered in
    session state; raises ``ValueError`` (from the library) for an unusable model or spec.
    """
    techniques = tuple(s for s in specs if s != "float32") or ("float32",)
    request = RunRequest(model=state.get(state.MODEL), techniques=techniques,
                         data=state.get(state.DATA))
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    context = {"answers": state.answers().to_dict(), "goals": state.goals().to_dict()}
    run_dir = start_run(request, state.runs_dir() / run_id, context=context)
    state.put(state.RUN_DIR, str(run_dir))
    return run_dir


def session_runs() -> list:
    """This session's runs, newest first (``RunState`` records read from disk)."""
    return list_runs(state.runs_dir())

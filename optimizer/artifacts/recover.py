"""Reading a run's results when its files may be damaged: never crash, say what is wrong.

``results.json`` can be truncated (a full disk, a killed writer), malformed by hand (a list, a
result without ``technique``, text where numbers belong) or missing. ``load_results`` returns
the results it can trust and, when something was wrong, one line saying what ("this run's
files are damaged: ..."); the results are then rebuilt from the ``result`` events in
``events.jsonl``, which hold the same records. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

from optimizer.artifacts import store
from optimizer.artifacts.events import EventType, read_events
from optimizer.guide.schema import Result

DAMAGED = "this run's files are damaged: "

_KINDS = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}


def _field_kinds() -> dict:
    """Each Result field's expected kind, from its annotation (``float | None`` -> float)."""
    kinds = {}
    for f in fields(Result):
        text = str(f.type).replace(" ", "")
        kinds[f.name] = next((kind for name, kind in _KINDS.items()
                              if text.startswith(name + "|") or text == name), None)
    return kinds


_FIELD_KINDS = _field_kinds()


def _coerce(value, kind):
    """``value`` as ``kind`` or raise ValueError (None stays None)."""
    if value is None or kind is None:
        return value
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return kind(value)
    if not isinstance(value, kind):
        raise ValueError
    return value


def result_or_problem(data) -> tuple[Result | None, str | None]:
    """A ``Result`` from one JSON record, or None and what is wrong with it.

    A field of the wrong type (text where a number belongs) is dropped (None) and named.
    """
    if not isinstance(data, dict):
        return None, f"a result is {type(data).__name__}, not an object"
    technique = data.get("technique")
    if not isinstance(technique, str) or not technique:
        return None, "a result has no technique"
    clean, bad = {}, []
    for key, value in data.items():
        if key not in _FIELD_KINDS:
            continue
        try:
            clean[key] = _coerce(value, _FIELD_KINDS[key])
        except (ValueError, TypeError):
            bad.append(key)
    result = Result.from_dict(clean)
    if not isinstance(result.status, str):
        result.status = "error"
    return result, (f"{technique}: {', '.join(bad)} not the right type" if bad else None)


def parse_results_doc(doc) -> tuple[list[Result], list[str]]:
    """The results in a ``results.json`` document and a list of problems found in it."""
    if not isinstance(doc, dict):
        return [], [f"results.json holds a {type(doc).__name__}, not an object"]
    raw = doc.get("results", [])
    if not isinstance(raw, list):
        return [], ["results.json's results are not a list"]
    results, problems = [], []
    for item in raw:
        result, problem = result_or_problem(item)
        if result is not None:
            results.append(result)
        if problem:
            problems.append(problem)
    return results, problems


def results_from_events(events: list[dict]) -> list[Result]:
    """The latest result of each technique, from the ``result`` events (order of first result)."""
    by_spec: dict[str, Result] = {}
    for event in events:
        if event.get("type") != EventType.RESULT.value:
            continue
        result, _ = result_or_problem(event.get("result"))
        if result is not None:
            by_spec[result.technique] = result
    return list(by_spec.values())


#: The note of a result whose run stopped between measuring it and timing its latency.
LATENCY_NOT_TIMED = "latency not measured: the run stopped before timing it"


def measured_results(events: list[dict], have: set, over: bool = False) -> list[Result]:
    """Results measured by a job but not yet complete (``measured`` events of techniques
    without a final ``result``): marked ``latency_pending`` while the run goes on, or, once it
    is ``over``, kept as measured with the note that latency was not timed."""
    by_spec: dict[str, Result] = {}
    for event in events:
        if event.get("type") != EventType.MEASURED.value:
            continue
        result, _ = result_or_problem(event.get("result"))
        if result is not None and result.technique not in have and result.ok:
            by_spec[result.technique] = result
    for result in by_spec.values():
        result.latency_pending = not over
        if over:
            result.notes = list(result.notes or []) + [LATENCY_NOT_TIMED]
    return list(by_spec.values())


def load_results(run_dir: Path | str, events: list[dict] | None = None
                 ) -> tuple[list[Result], str | None]:
    """A run's results and a one-line damage report (None when the files are sound).

    ``results.json`` is trusted when it parses; results it lacks but ``events.jsonl`` holds
    (it was truncated, or the writer died between the two) are added from the events.
    """
    run_dir = Path(run_dir)
    path = run_dir / store.RESULTS
    events = read_events(run_dir / store.EVENTS) if events is None else events
    problems: list[str] = []
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError):
        text, problems = None, ["results.json cannot be read"]
    results: list[Result] = []
    if text is not None:
        try:
            doc = json.loads(text)
        except ValueError:
            problems.append("results.json is truncated or not JSON")
        else:
            results, found = parse_results_doc(doc)
            problems += found
    from_events = results_from_events(events)
    have = {r.technique for r in results}
    rebuilt = [r for r in from_events if r.technique not in have]
    if rebuilt and problems:
        problems.append(f"{len(rebuilt)} result(s) rebuilt from events.jsonl")
    results += rebuilt
    over = any(e.get("type") == EventType.RUN_FINISHED.value for e in events)
    if text is None and not problems and rebuilt and over:
        # (while a run goes, its results event comes a moment before results.json is written)
        problems = ["results.json is missing; results rebuilt from events.jsonl"]
    return results, (DAMAGED + "; ".join(problems[:3])) if problems else None


def results_from_jobs(run_dir: Path | str, have: set) -> list[Result]:
    """Results a job's worker finished but its orchestrator never recorded (it was killed
    between the two): read from ``<job>.results.json``, kept as measured, latency not timed."""
    out = []
    for path in sorted(Path(run_dir).glob("job-*.results.json")):
        results, _ = parse_results_doc(store.read_json(path))
        for result in results:
            if result.technique in have:
                continue
            result.notes = list(result.notes or []) + [LATENCY_NOT_TIMED]
            have.add(result.technique)
            out.append(result)
    return out

"""AppTest: the Graph page lists only this workspace's finished runs, builds its overlays from
the run's files (downloadable as Model Explorer node data), says how to measure the int8
error, and refuses a file the run does not own. Synthetic run, no TensorFlow."""
from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

from app_helpers import goto, new_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_runs import graph_ready_run  # noqa: E402
from tflite_builder import mixed_model  # noqa: E402


def _workspace_with_a_run(file_for=None) -> tuple[str, Path]:
    return graph_ready_run(file_for)


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "info", "caption", "error", "warning")
                     for e in getattr(at, kind))


def test_a_workspace_without_runs_is_pointed_to_the_run_page():
    at = goto(new_app(session_id=secrets.token_urlsafe(16)), "pages/graph.py")
    assert not at.exception, at.exception
    assert at.title[0].value == "Graph"
    assert "No finished run or search yet" in _texts(at)
    assert [b.label for b in at.button] == ["Go to the Run page"]


def test_the_graph_of_a_run_with_its_overlays():
    owner, folder = _workspace_with_a_run()
    _other, other_folder = _workspace_with_a_run()
    at = goto(new_app(session_id=owner), "pages/graph.py")
    assert not at.exception, at.exception
    runs = at.selectbox(key="graph_run")
    assert runs.value == folder.name and len(runs.options) == 1   # not the other workspace's
    assert at.selectbox(key="graph_variant").value == "integer"
    # int8 error (the default) has not been measured: the page offers to measure it
    assert "has not been measured yet" in _texts(at)
    assert [b.label for b in at.button if "Measure" in b.label] == [
        "Measure the per-layer int8 error"]
    at.button_group(key="graph_overlay").set_value("kernels").run()
    assert not at.exception, at.exception
    texts = _texts(at)
    assert "Recorded when its latency was measured (1 thread(s)): XNNPACK" in texts
    assert "**float32** · Kernel" in texts and "**integer** · Kernel" in texts
    assert other_folder.name not in json.dumps(runs.options)


def test_a_file_outside_the_run_is_refused_on_the_page(tmp_path):
    outside = tmp_path / "elsewhere.tflite"
    outside.write_bytes(mixed_model())
    owner, _folder = _workspace_with_a_run(file_for={"integer": outside})
    at = goto(new_app(session_id=owner), "pages/graph.py")
    at.button_group(key="graph_overlay").set_value("precision").run()
    errors = [e.value for e in at.error]
    assert errors and "Opening the graph" in errors[0] and "refused" in errors[0]

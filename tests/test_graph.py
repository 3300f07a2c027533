"""The graph view's library: node ids and precision from a .tflite, the four overlays, the
component's arguments, and the refusals that keep every other file out (no TensorFlow; the
adapter test skips, with the reason, where Model Explorer is not installed)."""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest
from tflite_builder import mixed_model

from optimizer import paths
from optimizer.artifacts import history, store
from optimizer.graph import analyse, web
from optimizer.graph.ops import read_ops
from optimizer.graph.overlays import (
    WORST_COLOR,
    error_overlay,
    kernel_overlay,
    placement_overlay,
    precision_overlay,
)
from optimizer.graph.sources import GraphRefused, model_file, run_folder
from optimizer.graph.view import Pane, explorer_args, overlay_file_name
from optimizer.guide.schema import Result

HAVE_ADAPTER = importlib.util.find_spec("ai_edge_model_explorer_adapter") is not None
HAVE_WEB = importlib.util.find_spec("model_explorer") is not None


@pytest.fixture(scope="module")
def ops():
    return read_ops(mixed_model())


def _error(name, layer, op, value):
    return {"name": name, "layer": layer, "op": op, "rmse": value / 10, "scale": 0.1,
            "rmse_scale": value}


REPORT = {"debug_samples": 100, "before": [
    _error("m/dense/MatMul;m/dense/Relu;m/dense/BiasAdd", "dense", "FULLY_CONNECTED", 31.3),
    _error("m/dense_1/MatMul;m/dense_1/BiasAdd", "dense_1", "FULLY_CONNECTED", 0.6),
    # the debugger names the softmax output "Identity1"-less: matched by layer and op type
    _error("Identity9", "softmax (output)", "SOFTMAX", 0.25),
    _error("other/model/conv/Conv2D", "conv", "CONV_2D", 2.0),        # not in this file
]}


def test_ops_carry_model_explorer_ids_names_and_precision(ops):
    assert [o.node_id for o in ops] == ["0", "1", "2", "3", "4", "5"]
    assert ops[1].output_names == ("m/dense/MatMul;m/dense/Relu;m/dense/BiasAdd",)
    overlay = precision_overlay(ops)
    values = {k: v["value"] for k, v in overlay.results.items()}
    assert values == {"0": "conversion", "1": "int8", "2": "conversion", "3": "conversion",
                      "4": "float16 weights (float activations)", "5": "float32"}
    assert {label: count for label, _c, count in overlay.legend} == {
        "int8": 1, "float16 weights (float activations)": 1, "float32": 1, "conversion": 3}


@pytest.mark.skipif(not HAVE_ADAPTER, reason="Model Explorer's adapter is not installed: "
                                             "run `make setup-graph`")
def test_node_ids_and_tensor_names_are_the_adapters(ops, tmp_path):
    from optimizer.graph.convert import graph_json

    path = tmp_path / "m.tflite"
    path.write_bytes(mixed_model())
    graph = graph_json(path)
    nodes = {n["id"]: n for n in graph["graphs"][0]["nodes"]}
    for op in ops:
        node = nodes[op.node_id]
        assert node["label"] == op.op.lower()
        names = [a["value"] for meta in node["outputsMetadata"] for a in meta["attrs"]
                 if a["key"] == "tensor_name"]
        assert names == list(op.output_names)
    assert set(error_overlay(ops, REPORT).results) <= set(nodes)
    assert graph_json(path) == graph                 # the second time from the cache
    assert len(list((paths.workspace() / "cache" / "graphs").glob("*.json"))) >= 1


def test_the_int8_error_lands_on_the_files_ops_and_the_worst_is_marked(ops):
    overlay = error_overlay(ops, REPORT)
    assert {k: v["value"] for k, v in overlay.results.items()} == {"1": 31.3, "4": 0.6,
                                                                   "5": 0.25}
    assert overlay.focus == "1" and overlay.results["1"]["bgColor"] == WORST_COLOR
    assert all("bgColor" not in v for k, v in overlay.results.items() if k != "1")
    assert overlay.legend[0][0].startswith("worst: dense (FULLY_CONNECTED), 31.3")
    assert "1 measured op(s) have no counterpart" in overlay.note
    data = overlay.node_data()
    assert data["thresholds"][-1]["value"] >= 1e9 and set(data["results"]) == {"1", "4", "5"}
    json.dumps(data)                                 # plain JSON, no NaN or inf


def test_no_report_gives_no_values(ops):
    overlay = error_overlay(ops, None)
    assert overlay.results == {} and overlay.focus is None


def test_placement_follows_the_verdict_and_says_not_checked_without_one(ops):
    verdict = {"target": "edgetpu", "method": "rules", "ready": False, "summary": "Not ready.",
               "ops": [{"op": "QUANTIZE", "count": 1, "where": "accelerator"},
                       {"op": "FULLY_CONNECTED", "count": 1, "where": "accelerator"},
                       {"op": "FULLY_CONNECTED", "count": 1, "where": "cpu"},
                       {"op": "DEQUANTIZE", "count": 2, "where": "cpu"},
                       {"op": "SOFTMAX", "count": 1, "where": "unsupported"}]}
    overlay = placement_overlay(ops, verdict, "Edge TPU")
    assert {k: v["value"] for k, v in overlay.results.items()} == {
        "0": "accelerator", "1": "accelerator", "2": "cpu", "3": "cpu", "4": "cpu",
        "5": "unsupported"}
    assert "FULLY_CONNECTED run in more than one place" in overlay.note
    could_not = {**verdict, "ready": None, "summary": "the compiler's output was not understood"}
    assert "was not understood" in placement_overlay(ops, could_not, "Edge TPU").note
    for missing in (None, {"target": None, "error": "the check could not run"}, could_not):
        empty = placement_overlay(ops, missing, "Edge TPU")
        assert {v["value"] for v in empty.results.values()} == {"not checked"}
        assert len(empty.results) == len(ops)
    assert "could not run" in placement_overlay(ops, {"error": "the check could not run"},
                                                "x").note


def test_kernels_come_from_the_latency_run_or_say_not_recorded(ops):
    timed = Result("integer", latency_threads=2, latency_kernels="XNNPACK + 1 builtin ops",
                   latency_op_kernels=["XNNPACK"] * 5 + ["builtin"])
    overlay = kernel_overlay(ops, timed)
    assert overlay.results["5"]["value"] == "builtin"
    assert [v["value"] for v in overlay.results.values()].count("XNNPACK") == 5
    old = kernel_overlay(ops, Result("integer"))
    assert {v["value"] for v in old.results.values()} == {"not recorded"}
    assert "did not record" in old.note


def test_explorer_args_name_each_graph_and_overlay_for_model_explorer(ops):
    graph = {"graphs": [{"id": "main", "nodes": [{"id": "0", "subgraphIds": ["main"]}]}]}
    panes = [Pane("float32", Path("a.tflite"), ops, error_overlay(ops, REPORT)),
             Pane("integer", Path("b.tflite"), ops, error_overlay(ops, REPORT))]
    args = explorer_args([(p, graph) for p in panes], height=500)
    assert [m["url"] for m in args["url"]["models"]] == ["graphs://float32/0",
                                                         "graphs://integer/1"]
    ids = [g["graphs"][0]["id"] for g in args["graphs"]]
    assert ids == ["main", "main (integer)"]
    assert args["graphs"][1]["graphs"][0]["nodes"][0]["subgraphIds"] == ["main (integer)"]
    assert graph["graphs"][0]["id"] == "main"        # the cached graph is not changed
    states = args["url"]["uiState"]["paneStates"]
    assert [(s["selectedCollectionLabel"], s["selectedGraphId"], s["selectedNodeId"])
            for s in states] == [("float32", "main", "1"), ("integer", "main (integer)", "1")]
    assert args["url"]["nodeData"] == ["node_data://int8-error/0", "node_data://int8-error/1"]
    assert args["url"]["nodeDataTargets"] == ["float32", "integer"]
    assert args["height"] == 500 and len(args["nodeData"]) == 2
    alone = explorer_args([(Pane("float32", Path("a"), ops, None), graph)])
    assert "nodeData" not in alone["url"] and alone["nodeData"] == []
    assert overlay_file_name("integer[keep-float#2]", "precision") == \
        "integer_keep-float_2_.precision.node-data.json"


# -- only the workspace's own files ----------------------------------------------------------

@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path / "ws"))
    return paths.workspace()


def _run(workspace, owner: str, run_id: str, tflite_path=None) -> tuple:
    folder = workspace / "sessions" / owner / "runs" / run_id
    (folder / "integer").mkdir(parents=True)
    (folder / "integer" / "model.tflite").write_bytes(mixed_model())
    rows = [Result("integer", tflite_path=str(tflite_path or folder / "integer" /
                                              "model.tflite"))]
    store.write_json_atomic(folder / store.REQUEST, {"model": "digits-cnn",
                                                     "techniques": ["integer"]})
    store.write_results(folder, "digits-cnn", rows)
    history.upsert_run({"id": run_id, "kind": "run", "status": "finished",
                        "folder": str(folder.resolve()), "owner": owner, "model": "digits-cnn"})
    return folder, rows


OWNER, OTHER = "A" * 22, "B" * 22
RUN_ID = "20261201-120000-" + "a" * 32


def test_a_run_of_the_workspace_opens(workspace):
    folder, rows = _run(workspace, OWNER, RUN_ID)
    assert run_folder(RUN_ID, OWNER) == folder.resolve()
    assert model_file(folder, "integer", rows, OWNER) == \
        (folder / "integer" / "model.tflite").resolve()
    assert run_folder(RUN_ID, None, shared=True) == folder.resolve()   # a share link's id


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../etc/passwd", "..", "./x",
                                 "sessions/AAAA/runs/x", "C:\\x", "", "no-such-run"])
def test_a_path_or_unknown_id_is_refused(workspace, ref):
    _run(workspace, OWNER, RUN_ID)
    with pytest.raises(GraphRefused, match="refused"):
        run_folder(ref, OWNER)


def test_another_workspaces_run_is_refused(workspace):
    folder, rows = _run(workspace, OTHER, RUN_ID)
    with pytest.raises(GraphRefused, match="another workspace"):
        run_folder(RUN_ID, OWNER)
    with pytest.raises(GraphRefused, match="another workspace"):
        model_file(folder, "integer", rows, OWNER)
    with pytest.raises(GraphRefused):
        run_folder(RUN_ID, None)


def test_a_recorded_file_outside_the_run_is_refused(workspace, tmp_path):
    outside = tmp_path / "secret.tflite"
    outside.write_bytes(b"TFL3 not yours")
    folder, _rows = _run(workspace, OWNER, RUN_ID)
    for path in (outside, folder / ".." / ".." / ".." / ".." / "secret.tflite",
                 Path("/etc/passwd"), folder / "integer" / "recipe.json"):
        rows = [Result("integer", tflite_path=str(path))]
        with pytest.raises(GraphRefused):
            model_file(folder, "integer", rows, OWNER)
    link = folder / "integer" / "link.tflite"
    link.symlink_to(outside)
    with pytest.raises(GraphRefused, match="not one of this run's models"):
        model_file(folder, "integer", [Result("integer", tflite_path=str(link))], OWNER)
    with pytest.raises(GraphRefused, match="no model file"):
        model_file(folder, "../integer", [Result("integer", tflite_path=str(link))], OWNER)
    with pytest.raises(GraphRefused, match="not in this server's workspace"):
        model_file(tmp_path, "integer", [Result("integer", tflite_path=str(outside))], OWNER)


# -- the per-layer analysis of a run ---------------------------------------------------------

def test_analysis_status_is_running_from_the_request_until_a_report_or_failure(workspace):
    folder, _rows = _run(workspace, OWNER, RUN_ID)
    assert analyse.status(folder) is None and analyse.report_for(folder) is None
    work = folder / analyse.FOLDER
    work.mkdir()
    (work / analyse.REQUESTED).write_text("now")
    assert analyse.status(folder) == "running"
    old = time.time() - analyse.START_GRACE_S - 5
    import os

    os.utime(work / analyse.REQUESTED, (old, old))
    (work / "analyse.log").write_text("Traceback...\nValueError: no float32 baseline\n")
    assert analyse.status(folder) == ("the per-layer analysis failed: ValueError: no float32 "
                                      "baseline")
    (work / analyse.LAYER_REPORT).write_text(json.dumps(REPORT))
    assert analyse.status(folder) is None and analyse.report_for(folder) == REPORT


def test_an_analysis_needs_a_finished_run_with_a_baseline(workspace):
    folder, _rows = _run(workspace, OWNER, RUN_ID)
    with pytest.raises(ValueError, match="no float32 baseline"):
        analyse.start_analysis(folder)


# -- Model Explorer's web app as a component folder ------------------------------------------

@pytest.mark.skipif(not HAVE_WEB, reason="Model Explorer is not installed: run "
                                         "`make setup-graph`")
def test_the_component_folder_is_model_explorer_fed_by_the_bridge(workspace):
    folder = web.web_dir()
    html = (folder / "index.html").read_text()
    assert '<base href="./">' in html and 'id="bridge" src="bridge.js"' in html
    assert "fonts.gstatic.com" not in html and "url(/static_files" not in html
    assert 'type="module"></script>' not in html        # the bridge starts the scripts
    for css in folder.glob("*.css"):
        assert "url(/static_files" not in css.read_text()
    assert (folder / "bridge.js").read_bytes() == web.BRIDGE.read_bytes()
    assert web.web_dir() == folder                      # built once
    assert web.missing() is None


def test_the_latency_run_names_each_ops_kernel():
    from optimizer.measuring.latency import op_kernels

    ops = [{"index": i} for i in (2, 0, 1)]
    assert op_kernels("XNNPACK + 1 builtin ops", [{"index": 1}], ops) == (
        "XNNPACK", "builtin", "XNNPACK")
    assert op_kernels("builtin kernels", ops, ops) == ("builtin",) * 3
    assert op_kernels("XNNPACK", [], ops) == ("XNNPACK",) * 3

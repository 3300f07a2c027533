"""Readiness fails closed: a tool output that is not understood, or a tool that fails, gives
"could not check: <why>" -- never ready, never every op "unsupported"; the registry refuses to
import while a target has no check of its method; a could-not-check verdict cached before
`make setup-npu` is checked again once the tools exist; a search that needs an NPU check
without the tools stops at once (exit 2) naming the command. No TensorFlow."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
from npu_tools import hidden_npu_env
from tiny_tflite import tiny_tflite

from optimizer.guide.goals import TargetGoal
from optimizer.guide.schema import Result
from optimizer.guide.targets import TARGETS, Target
from optimizer.measuring.readiness import aot, intel, qualcomm
from optimizer.measuring.readiness.graph import read_graph
from optimizer.measuring.readiness.registry import CHECKS, RegistryError, verify
from optimizer.paths import REPO_ROOT
from optimizer.report.readiness import readiness_cell

pytestmark = pytest.mark.cost(12)

COUNTS = "Partitioned subgraph<0>, selected {} ops, from a total of {} ops. resulted in 1 partitions"


@pytest.fixture(scope="module")
def graph():
    return read_graph(tiny_tflite())          # ADD #0, MUL #1


def _judge(graph, output: str, code: int = 0, vendor=qualcomm.VENDOR):
    return aot.judge(aot.parse_run(code, output, 0.2), graph, "npu-qualcomm", "SM8650", vendor)


def _could_not_check(verdict, *words):
    assert verdict.ready is None and verdict.state == "could not check"
    assert verdict.summary.startswith("Could not check: ")
    assert verdict.ops == ()                  # no op is claimed "unsupported" (or anything)
    for word in words:
        assert word in verdict.summary, verdict.summary


def test_output_without_partition_counts_could_not_check(graph):
    # Exit 0 and no refusal line: before, that read as "ready".
    _could_not_check(_judge(graph, "INFO: plugin loaded\nINFO: done"),
                     "not understood", "no partition counts")


def test_a_failing_tool_could_not_check_and_says_why(graph):
    verdict = _judge(graph, "INFO: start\nERROR: [qnn] QNN Unsupported data type", code=1)
    _could_not_check(verdict, "Qualcomm's compiler failed for SM8650", "QNN Unsupported data type")


def test_counts_that_contradict_the_file_could_not_check(graph):
    _could_not_check(_judge(graph, COUNTS.format(7, 7)), "counted 7 of 7", "has 2")
    refused = "LiteRT Op #1 'Mul' (code=18) is not supported in Qualcomm Compiler."
    _could_not_check(_judge(graph, f"{COUNTS.format(2, 2)}\n{refused}"), "contradicts itself")


def test_understood_outputs_give_ready_and_not_ready(graph):
    ready = _judge(graph, COUNTS.format(2, 2))
    assert ready.ready is True and "fully compiled for SM8650: 2 / 2 ops" in ready.summary
    refused = "LiteRT Op #1 'Mul' (code=18) is not supported in Qualcomm Compiler."
    partial = _judge(graph, f"{COUNTS.format(1, 2)}\n{refused}")
    assert partial.ready is False and "partially compiled" in partial.summary
    assert [(o.op, o.where) for o in partial.ops] == [("ADD", "accelerator"), ("MUL", "cpu")]
    unnamed = _judge(graph, COUNTS.format(1, 2))  # the log names none of the refused ops
    assert unnamed.ready is False and unnamed.ops == () and "names 0 of the 1" in unnamed.summary


def test_intel_refusals_by_builtin_code(graph):
    verdict = _judge(graph, f"{COUNTS.format(1, 2)}\nop type 18 is not supported",
                     vendor=intel.VENDOR)
    assert verdict.ready is False and verdict.method == "partitioned"
    assert [(o.op, o.where) for o in verdict.ops] == [("ADD", "accelerator"), ("MUL", "cpu")]
    _could_not_check(_judge(graph, "openvino: segmentation fault", code=139, vendor=intel.VENDOR),
                     "the OpenVINO plugin failed")


def test_the_whole_check_with_a_failing_tool(tmp_path, monkeypatch):
    model = tmp_path / "m.tflite"
    model.write_bytes(tiny_tflite())
    monkeypatch.setattr(aot, "soc_names", lambda vendor: ["SM8650"])
    spec = replace(qualcomm.VENDOR, missing=lambda: None)

    def failing(*args):
        return aot.PluginRun(124, ("the AOT tool did not finish within 600 s",), 600.0)

    verdict = aot.check_with_plugin(model, "npu-qualcomm", {}, spec, run=failing)
    assert verdict.ready is None and "did not finish within 600 s" in verdict.summary


def test_tflite_micro_crashing_could_not_check(tmp_path, monkeypatch):
    from optimizer.measuring.readiness import mcu

    monkeypatch.setattr(mcu, "smallest_arena", lambda data: (None, (
        "TFLM crashed (signal 11) with a 268,435,456-byte arena",)))
    verdict = mcu.check(tiny_tflite(), "mcu", {})
    assert verdict.ready is None and "TFLM crashed (signal 11)" in verdict.summary
    assert verdict.ops == ()


def test_could_not_check_is_its_own_state_everywhere():
    verdict = {"target": "npu-intel", "method": "partitioned", "ready": None,
               "summary": "Could not check: the OpenVINO plugin failed for LNL: boom.",
               "ops": [], "memory": None, "accuracy": None}
    assert readiness_cell(verdict) == "could not check (partitioned)"
    item = TargetGoal("npu-intel").evaluate(Result("float32", size_bytes=10),
                                            Result("integer", size_bytes=5, readiness=verdict))
    assert item.met is False and item.state == "not_checked"      # never "missed" either
    assert item.detail.startswith("could not check for Intel NPU (OpenVINO) (partitioned): the "
                                  "OpenVINO")


def test_the_registry_refuses_a_target_without_a_check_or_with_another_method():
    verify(CHECKS, TARGETS)
    with pytest.raises(RegistryError, match="no readiness check registered for target.*mcu"):
        verify({t: c for t, c in CHECKS.items() if t != Target.MCU}, TARGETS)
    lying = {**TARGETS, Target.EDGETPU: replace(TARGETS[Target.EDGETPU], readiness="compiled")}
    with pytest.raises(RegistryError, match="declares readiness 'compiled'.*answers 'rules'"):
        verify(CHECKS, lying)


def test_a_target_row_without_a_check_fails_at_import():
    code = ("import dataclasses, optimizer.guide.targets as t\n"
            "row = dataclasses.replace(t.TARGETS[t.Target.EDGETPU], label='Coral NPU')\n"
            "t.TARGETS['coral-npu'] = row\n"
            "import optimizer.measuring.readiness.registry\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)
    assert done.returncode != 0
    assert "RegistryError: no readiness check registered for target(s) coral-npu" in done.stderr


def test_a_could_not_check_verdict_is_checked_again_after_the_setup(tmp_path, monkeypatch):
    from optimizer.runs.readiness import check_variants, with_readiness

    npu = tmp_path / "npu"
    monkeypatch.setenv("OPTIMIZER_NPU_DIR", str(npu))
    variant = tmp_path / "run" / "integer"
    variant.mkdir(parents=True)
    (variant / "model.tflite").write_bytes(tiny_tflite())
    results = [Result("integer", size_bytes=100, tflite_path=str(variant / "model.tflite"))]

    before = check_variants(results, "npu-qualcomm")[0].readiness
    assert before["ready"] is None and "make setup-npu" in before["summary"]
    assert "not installed" in before["summary"]
    assert with_readiness(results, "npu-qualcomm")[0].readiness == before   # served while true

    libs = npu / "onnxruntime_qnn"                   # what `make setup-npu` leaves (here: fakes)
    libs.mkdir(parents=True)
    for name in ("libQnnHtp.so", "libQnnLpai.so"):
        (libs / name).write_bytes(b"not a shared library")
    assert with_readiness(results, "npu-qualcomm")[0].readiness is None     # offered again
    after = check_variants(results, "npu-qualcomm")[0].readiness
    assert after["checked_with"] != before["checked_with"]
    assert "make setup-npu" not in after["summary"]
    assert after["ready"] is None and after["ops"] == []   # the fake libraries fail the tool
    cached = json.loads((variant / "readiness" / "npu-qualcomm.json").read_text())
    assert cached == after


@pytest.mark.parametrize("target", ["npu-intel", "npu-qualcomm"])
def test_a_search_that_needs_an_npu_check_without_the_tools_exits_2_at_once(target, tmp_path):
    out = tmp_path / "search"
    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "search", "--model", "digits-cnn", "--target",
         target, "--max-accuracy-drop", "0.01", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=hidden_npu_env(tmp_path), timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "`make setup-npu`" in done.stderr and "--no-must-be-ready" in done.stderr
    assert not out.exists()                              # no trial ran, nothing was written


def test_the_app_cannot_start_such_a_search_either(tmp_path, monkeypatch):
    from optimizer.search.background import start_search
    from optimizer.search.request import SearchRequest

    missing = "the NPU tools are not installed (hidden by the test); run `make setup-npu`"
    monkeypatch.setitem(CHECKS, Target.NPU_INTEL, replace(CHECKS[Target.NPU_INTEL],
                                                          missing=lambda: missing))
    request = SearchRequest(model="digits-cnn", target="npu-intel", max_accuracy_drop=0.01)
    with pytest.raises(ValueError, match="needs its readiness check, but the NPU tools are not "
                                         "installed.*make setup-npu"):
        start_search(request, tmp_path / "search")
    assert not (tmp_path / "search").exists()
    allowed = SearchRequest(model="digits-cnn", target="npu-intel", max_accuracy_drop=0.01,
                            must_be_ready=False)
    from optimizer.search.request import readiness_blocker

    assert readiness_blocker(allowed) is None

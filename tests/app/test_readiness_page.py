"""Results page, target readiness: the checks run from the page's button, every variant gets a
readiness cell and a detail table, microcontroller memory and TFLite Micro accuracy are shown,
and a variant that cannot run on the target never meets the goals there."""
from __future__ import annotations

import json

import pytest
from app_helpers import button, goto, new_app

from optimizer import AccuracyGoal, Answers, Goals, McuBudget, RunRequest, TargetGoal

pytestmark = [pytest.mark.slow, pytest.mark.cost(30)]


@pytest.fixture(scope="module")
def run_folder(tiny_model, tiny_dataset, _private_workspace):
    """A finished run's folder (as the store writes it) with a float32 baseline, an int8-only
    variant and a float16-named float variant, converted by the project's converter."""
    from optimizer.engine.convert import convert, freeze_model
    from optimizer.guide.configs import PtqConfig
    from optimizer.measuring.facts import tflite_facts

    run_dir = _private_workspace / "sessions" / "readytest" / "runs" / "r1"
    frozen = freeze_model(tiny_model)
    made = {"float32": convert(frozen, PtqConfig.float32()),
            "integer_only": convert(frozen, PtqConfig.full_integer(True, calibration_samples=100),
                                    tiny_dataset.representative(100)),
            "float16": convert(frozen, PtqConfig.float16())}
    results = []
    for name, conversion in made.items():
        folder = run_dir / name
        folder.mkdir(parents=True)
        (folder / "model.tflite").write_bytes(conversion.tflite)
        facts = tflite_facts(conversion.tflite)
        results.append({"technique": name, "status": "ok", "model": "digits-cnn",
                        "size_bytes": facts.size_bytes, "gzip_bytes": facts.gzip_bytes,
                        "accuracy": 0.95, "accuracy_delta": 0.0 if name == "float32" else -0.001,
                        "input_dtype": facts.input_dtype, "output_dtype": facts.output_dtype,
                        "tflite_path": str(folder / "model.tflite")})
    (run_dir / "request.json").write_text(json.dumps(
        {"model": "digits-cnn", "techniques": ["integer_only", "float16"]}))
    (run_dir / "results.json").write_text(json.dumps({"model": "digits-cnn",
                                                      "results": results}))
    return run_dir


def _app(run_dir, target, goals):
    """The Results page of the run, which was made for ``target`` and ``goals`` (its
    request.json says so: the page judges a run by what it was run with)."""
    answers = Answers(optimize=True, data="labelled", can_retrain=True, target=target,
                      size_goal="4x", effort="thorough", accuracy="standard")
    request = RunRequest.from_goals(goals, target, model="digits-cnn", answers=answers,
                                    techniques=["integer_only", "float16"])
    (run_dir / "request.json").write_text(json.dumps(request.to_dict()))
    return goto(new_app(session_id="readytest", run_dir=str(run_dir), answers=answers,
                        goals=goals, situation_confirmed=True), "pages/results.py")



def test_mcu_readiness_shows_arena_flash_and_tflm_accuracy(run_folder):
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01), mcu=McuBudget(ram_kb=256, flash_kb=1024),
                  target=TargetGoal("mcu"))
    at = _app(run_folder, "mcu", goals)
    assert not at.exception
    button(at, "Check readiness on Microcontroller (3 variants)").click().run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    ready = next(t for t in tables if "Arena (kB)" in t.columns).set_index("Technique")
    row = ready.loc["integer_only"]
    assert row["Readiness"] == "ready (interpreted)"
    assert 0 < row["Arena (kB)"] < 256
    assert row["Flash (kB)"] == pytest.approx(        # three significant figures
        (run_folder / "integer_only" / "model.tflite").stat().st_size / 1024, rel=5e-3)
    assert row["Target runtime metric (%)"] > 50 and row["LiteRT metric (%)"] > 50
    main = next(t for t in tables if "Goals" in t.columns).set_index("Technique")
    assert main.loc["integer_only", "Readiness"] == "ready (interpreted)"
    assert any("ops on Microcontroller" in e.label for e in at.expander)


def test_a_variant_not_ready_for_the_edge_tpu_never_meets_the_goals(run_folder):
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01), target=TargetGoal("edgetpu"))
    at = _app(run_folder, "edgetpu", goals)
    button(at, "Check readiness on Edge TPU (3 variants)").click().run()
    assert not at.exception
    main = next(d.value for d in at.dataframe if "Goals" in d.value.columns).set_index("Technique")
    assert main.loc["float16", "Readiness"] == "not ready (rules)"
    assert main.loc["float16", "Goals"] == "✗ missed"      # within the accuracy budget, yet
    assert main.loc["integer_only", "Readiness"] == "ready (rules)"
    assert main.loc["integer_only", "Goals"] == "✓ met"


def test_without_the_npu_tools_the_page_says_could_not_check_and_checks_again_after_setup(
        run_folder, tmp_path, monkeypatch):
    npu = tmp_path / "npu"
    monkeypatch.setenv("OPTIMIZER_NPU_DIR", str(npu))           # no QNN libraries here
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01), target=TargetGoal("npu-qualcomm"))
    at = _app(run_folder, "npu-qualcomm", goals)
    button(at, "Check readiness on Qualcomm NPU (Snapdragon) (3 variants)").click().run()
    assert not at.exception
    main = next(d.value for d in at.dataframe if "Goals" in d.value.columns).set_index("Technique")
    assert main.loc["integer_only", "Readiness"] == "could not check (compiled)"
    assert main.loc["integer_only", "Goals"] == "… not checked"  # never ready, never missed
    table = next(d.value for d in at.dataframe if "Summary" in d.value.columns)
    assert table["Summary"].str.contains("make setup-npu").all()
    libs = npu / "onnxruntime_qnn"                                # the setup ran (fakes here)
    libs.mkdir(parents=True)
    for name in ("libQnnHtp.so", "libQnnLpai.so"):
        (libs / name).write_bytes(b"")
    again = _app(run_folder, "npu-qualcomm", goals)
    assert not again.exception
    assert button(again, "Check readiness on Qualcomm NPU (Snapdragon) (3 variants)") is not None

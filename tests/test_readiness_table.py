"""Fast: every target has a registered readiness check of its row's method; the microcontroller
budget judges measured bytes like the size goal; the readiness verdict keeps the CLI's shape."""
from __future__ import annotations

import pytest

from optimizer.guide.goals import Goals, McuBudget
from optimizer.guide.schema import Result
from optimizer.guide.targets import TARGETS, Target
from optimizer.measuring.readiness.report import METHODS, OpPlacement, Readiness


@pytest.mark.parametrize("target", list(Target))
def test_every_target_has_a_registered_check_of_its_method(target):
    from optimizer.measuring.readiness import CHECKS

    info = TARGETS[target]
    assert info.readiness in METHODS
    assert CHECKS[target].method == info.readiness and callable(CHECKS[target].run)


def test_npu_rows_say_how_to_enable_them():
    assert TARGETS[Target.NPU_QUALCOMM].readiness == "compiled"
    assert TARGETS[Target.NPU_INTEL].readiness == "partitioned"
    assert all(TARGETS[t].needs_setup == "make setup-npu"
               for t in (Target.NPU_QUALCOMM, Target.NPU_INTEL))


def test_mcu_budget_judges_arena_and_flash():
    budget = McuBudget(ram_kb=256, flash_kb=1024)
    assert budget.check_memory(4480, 45416).met
    over = budget.check_memory(300 * 1024, 45416)
    assert not over.met and "arena 300 kB > 256 kB RAM" in over.detail   # kB of 1,024 bytes
    assert not budget.check_memory(None, 45416).met  # not measured never meets a goal
    assert McuBudget(flash_kb=40).check_memory(None, 45416).met is False


@pytest.mark.parametrize("bad", [dict(), dict(ram_kb=0), dict(flash_kb=-1), dict(ram_kb=1.5),
                                 dict(ram_kb=True)])
def test_mcu_budget_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        McuBudget(**bad)


def test_mcu_budget_reads_a_results_readiness():
    base = Result("float32", size_bytes=1000)
    checked = Result("integer_only", size_bytes=400, readiness={
        "memory": {"arena_bytes": 5000, "flash_bytes": 400}})
    unchecked = Result("integer", size_bytes=450)
    goals = Goals(mcu=McuBudget(ram_kb=8, flash_kb=1))
    assert goals.is_met(base, checked)
    assert not goals.is_met(base, unchecked)
    assert goals.check(base, unchecked).state == "not_checked"     # never "missed"
    assert Goals.from_dict(goals.to_dict()) == goals


def test_readiness_round_trips_in_the_cli_shape():
    verdict = Readiness("edgetpu", "rules", False, "Not ready (rules): ...",
                        (OpPlacement("CONV_2D", 2, "cpu", "float"),))
    data = verdict.to_dict()
    assert list(data) == ["target", "method", "ready", "summary", "ops", "memory", "accuracy"]
    assert Readiness.from_dict(data) == verdict
    assert verdict.label == "not ready (rules)"
    with pytest.raises(ValueError):
        Readiness("mcu", "guessed", True, "")
    with pytest.raises(ValueError):
        OpPlacement("CONV_2D", 1, "somewhere")


def test_readiness_modules_never_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, optimizer.measuring.readiness as r, optimizer.cli.readiness; "
            "import optimizer.measuring.readiness.mcu, optimizer.measuring.readiness.edgetpu, "
            "optimizer.measuring.readiness.gpu, optimizer.measuring.readiness.cpu; "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


@pytest.mark.parametrize("target", ["npu-qualcomm", "npu-intel"])
def test_npu_check_without_its_setup_names_the_command(target, tmp_path):
    import subprocess
    import sys

    from npu_tools import hidden_npu_env

    model = tmp_path / "m.tflite"
    model.write_bytes(b"placeholder")
    done = subprocess.run([sys.executable, "-m", "optimizer", "readiness", "--model", str(model),
                           "--target", target], capture_output=True, text=True,
                          env=hidden_npu_env(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert "make setup-npu" in done.stderr and len(done.stderr.strip().splitlines()) == 1

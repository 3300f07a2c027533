"""Your situation: the microcontroller budgets and "must be ready for the target" become goals."""
from __future__ import annotations

from app_helpers import button, goto, new_app

from optimizer import McuBudget, TargetGoal


def test_mcu_budgets_and_readiness_become_goals():
    at = goto(new_app(), "pages/situation.py")
    at.radio(key="q_target").set_value("mcu")
    at.number_input(key="g_ram_kb").set_value(256.0)
    at.number_input(key="g_flash_kb").set_value(1024.0)
    button(at, "See my recommendation").click().run()
    assert not at.exception
    goals = at.session_state["goals"]
    assert goals.mcu == McuBudget(ram_kb=256, flash_kb=1024)
    assert goals.target == TargetGoal("mcu")
    at = goto(at, "pages/situation.py")             # the form shows what was saved
    assert at.number_input(key="g_ram_kb").value == 256.0
    assert at.checkbox(key="g_ready").value is True


def test_readiness_can_be_turned_off_and_the_cpu_needs_no_check():
    at = goto(new_app(), "pages/situation.py")
    at.radio(key="q_target").set_value("edgetpu")
    at.checkbox(key="g_ready").uncheck()
    button(at, "See my recommendation").click().run()
    assert at.session_state["goals"].target is None
    at = goto(new_app(), "pages/situation.py")
    button(at, "See my recommendation").click().run()     # the default target: CPU
    goals = at.session_state["goals"]
    assert goals.target is None and goals.mcu is None

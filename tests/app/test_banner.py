"""AppTest of issue 19's banner journey: choose the microcontroller on Your situation, run
digits-cnn with integer_only, open the Results page -- readiness is "not checked yet", never
"missed", and no banner says nothing meets the goals -- then Check readiness and see every
banner, counter and cell change, also after a reload (a fresh session on the same run)."""
from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import button, goto, new_app, start_and_wait

pytestmark = [pytest.mark.slow, pytest.mark.cost(90)]

SESSION = "apptest-banner"


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("success", "warning", "info", "caption",
                                               "markdown") for e in getattr(at, kind)) \
        .replace("\\", "")


def _key_row(at, technique: str) -> str:
    key = next(h.proto.body for h in at.get("html") if "key-table" in h.proto.body)
    start = key.index(f"<tr><td>{technique}</td>")
    return key[start:key.index("</tr>", start)]


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _results(run_dir: Path):
    return goto(new_app(session_id=SESSION, run_dir=str(run_dir)), "pages/results.py")


def test_readiness_not_checked_then_checked_changes_every_banner():
    from optimizer import read_run

    at = goto(new_app(session_id=SESSION, run_specs=["integer_only"]), "pages/situation.py")
    at.radio(key="q_target").set_value("mcu")
    at.checkbox(key="q_retrain").uncheck()       # the guide then recommends integer_only
    button(at, "See my recommendation").click().run()
    assert not at.exception, at.exception
    at.session_state["run_specs"] = ["integer_only"]
    goto(at, "pages/run.py")
    run_dir = start_and_wait(at)
    assert read_run(run_dir).status == "finished", (run_dir / "run.log").read_text()[-2000:]

    before = _results(run_dir)
    assert not before.exception, before.exception
    text = _texts(before)
    assert "judged by the goals it was run with" in text.lower()
    assert "ready for Microcontroller" in text
    assert "… not checked" in _key_row(before, "integer_only")
    assert "✗ missed" not in _key_row(before, "integer_only")
    assert "None of the measured results meets it" not in text
    assert "None of the measured variants meets all your goals" not in text
    assert "1 not checked yet" in text                    # the run-wide note says why
    assert "Nothing measured so far contradicts the guide's recommendation, `integer_only`" \
        in text
    assert "agreed with the guide" not in text
    assert _metric(before, "Meet the goals") == "0 of 1"

    button(before, "Check readiness on Microcontroller (2 variants)").click().run()
    assert not before.exception, before.exception
    for after in (before, _results(run_dir)):             # this page, and after a reload
        text = _texts(after)
        assert "✓ met" in _key_row(after, "integer_only")
        assert _metric(after, "Meet the goals") == "1 of 1"
        assert "agreed with the guide's recommendation, `integer_only`" in text
        assert "For your goals the measurements favour integer_only" in text
        assert "not checked yet" not in text

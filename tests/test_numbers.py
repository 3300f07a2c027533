"""The one number format (optimizer.numbers): three significant figures, µs below 0.1 ms,
accuracy in the decimals its changes need, intervals and p-values, separators from one place,
and no hand-written number formats left in the code that shows results."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from optimizer import numbers

ROOT = Path(__file__).resolve().parents[1]


def test_three_significant_figures_and_microseconds():
    assert numbers.ms(0.002) == "2.00 µs" and numbers.ms(0.412) == "0.412 ms"
    assert numbers.ms(0.004123) == "4.12 µs"        # an int8 trial: never "0.004 ms"
    assert numbers.ms(1130.4) == "1,130 ms" and numbers.ms(None) == "–"
    assert numbers.ms_range(0.487, 4.686) == "0.487–4.69 ms"
    assert numbers.sig(9.995) in ("9.99", "10.0") and numbers.sig(0.0009996) == "0.00100"
    assert numbers.points(-0.00444) == "-0.444 points" and numbers.points(0.0) == "0 points"
    assert numbers.size(639_700) == "640 kB" and numbers.size(16_900_000) == "16.9 MB"
    assert numbers.size(999) == "999 B" and numbers.ratio(3.4412) == "3.44x"
    assert numbers.seconds(42.4) == "42 s" and numbers.seconds(1.46) == "1.5 s"


def test_accuracy_takes_the_decimals_its_change_needs():
    # 443/450 vs 442/450: a change of one sample, 0.222 points
    places = numbers.metric_places([443 / 450, 442 / 450], [-1 / 450])
    assert places == 3
    assert numbers.metric_value(443 / 450, "accuracy", places) == "98.444 %"
    assert numbers.metric_value(442 / 450, "accuracy", places) == "98.222 %"
    assert numbers.points(-1 / 450) == "-0.222 points"
    assert numbers.metric_places([0.962, 0.969], [-0.007]) == 1     # 0.7 needs one decimal
    assert numbers.metric_places([0.98], []) == 1
    assert numbers.metric_places([0.5], [-1e-7]) == numbers.MAX_PLACES
    assert numbers.metric_value(0.0123, "rmse") == "0.0123"


def test_intervals_and_p_values():
    assert numbers.metric_ci(0.9844, [0.971, 0.992]) == "98.4 % (97.1–99.2)"
    assert numbers.metric_ci(443 / 450, [0.9693, 0.9926], decimals=3) == \
        "98.444 % (96.9–99.3)"           # the ends are uncertain: three figures
    assert numbers.metric_ci(0.9, None) == "90.0 %"
    assert numbers.points_range([-0.0111, 0.00444]) == "-1.11 to +0.444 points"
    assert numbers.p_value(0.03125) == "p = 0.031" and numbers.p_value(1.0) == "p = 1.0"
    assert numbers.p_value(1e-9) == "p < 0.001" and numbers.p_value(None) == "p not known"


def test_separators_come_from_one_place():
    with numbers.use_separators(decimal=",", thousands="."):
        assert numbers.ms(1130.4) == "1.130 ms"
        assert numbers.metric_value(443 / 450, "accuracy", 3) == "98,444 %"
        assert numbers.size(45_720) == "45,7 kB" and numbers.count(20_000) == "20.000"
        assert numbers.tick_ms(0.0025) == "2,5 µs"
    assert numbers.ms(1130.4) == "1,130 ms"                     # back to English after


@pytest.mark.parametrize("value, decimals, text", [(-0.0001, 2, "0.00"), (1234.5, 1, "1,234.5"),
                                                    (None, 2, "–")])
def test_fixed(value, decimals, text):
    assert numbers.fixed(value, decimals) == text


# Hand-written number formats in what shows results: every one goes through optimizer.numbers.
_SPEC = re.compile(r"\{[^{};\"']*:[,+]?\.?\d*[fge%,]\}")
_SHOWN = ("optimizer/report", "optimizer/search", "optimizer/guide", "optimizer/workspace",
          "optimizer/cli", "pages", "optimizer/runs/slots.py", "optimizer/runs/cluster.py",
          "optimizer/runs/wait.py")
#: Files whose format specs write code or log lines, not numbers shown as results.
_NOT_SHOWN = {"optimizer/report/reproduce.py",       # the generated script's own code
              "optimizer/cli/bench.py",              # benchmark printouts
              "optimizer/guide/goal_fields.py",      # echoes the flag as the user typed it
              "optimizer/search/candidates.py",      # knob values written into --set pairs
              "optimizer/search/request.py",         # the flag's bound in an error message
              "optimizer/search/loop.py",            # the search's own log notes
              "optimizer/search/runner.py",          # the search's start line in its log
              "optimizer/search/evaluator.py",       # a stop reason in the log
              "optimizer/cli/search.py",             # --help default text
              "optimizer/cli/report.py",             # "wrote report.html (5.1 MB)"
              "optimizer/guide/stage.py",            # a knob's bounds and a recipe step, as set
              "optimizer/guide/stages/pruning.py"}   # the reproduce script and its recipe step


def test_no_hand_written_number_format_where_results_are_shown():
    offenders = []
    for root in _SHOWN:
        path = ROOT / root
        for file in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
            rel = file.relative_to(ROOT).as_posix()
            if rel in _NOT_SHOWN:
                continue
            for number, line in enumerate(file.read_text().splitlines(), 1):
                if _SPEC.search(line) and "numbers.py" not in rel:
                    offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []

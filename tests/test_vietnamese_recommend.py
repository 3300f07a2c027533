"""The recommendation in Vietnamese: for every situation the questionnaire can describe, every
sentence (the path, the reasons, why not the others, the notes, what would unlock it) is
Vietnamese -- no English word outside the allowed names -- and says the same as in English."""
from __future__ import annotations

import itertools

import pytest
from vietnamese_text import english_words

from optimizer import Answers, Target, recommend
from optimizer.text import use_language


def _situations():
    for optimize, data, can_retrain, size, effort, accuracy in itertools.product(
            (True, False), ("none", "unlabelled", "labelled"), (True, False), ("2x", "4x"),
            ("quick", "thorough"), ("standard", "high")):
        if not optimize and (size, effort, accuracy) != ("4x", "quick", "standard"):
            continue
        yield dict(optimize=optimize, data=data, can_retrain=can_retrain, size_goal=size,
                   effort=effort, accuracy=accuracy)


def _sentences(rec) -> list[str]:
    return ([s.question for s in rec.path] + [s.because for s in rec.path] + list(rec.reasons)
            + [e.reason for e in rec.excluded] + list(rec.notes) + [u.text for u in rec.unlock]
            + ([rec.override] if rec.override else []))


@pytest.mark.parametrize("target", [t.value for t in Target])
def test_every_recommendation_reads_in_vietnamese(target):
    english = {}
    for situation in _situations():
        answers = Answers(target=target, **situation)
        with use_language("vi"):
            rec = recommend(answers)
        left = {w for s in _sentences(rec) for w in english_words(s)}
        assert not left, (situation, left, _sentences(rec))
        same = recommend(answers)
        # the same decision whatever the language: only the words differ
        assert (rec.technique, rec.run_spec, rec.leaf, rec.alternatives, rec.reason_kinds) == \
            (same.technique, same.run_spec, same.leaf, same.alternatives, same.reason_kinds)
        english[len(english)] = same
    assert english

"""What a user asks a run for: ``RunRequest``, written once as ``request.json`` in the run folder.

A run request holds what is measured (the model, its data, the technique specs, ``key=value``
settings) and what the results are judged by: the answers to the guide's questions
(``answers``, an ``Answers``) and the goals (the ``GoalFields`` shared with the search:
``target``, ``max_accuracy_drop``, ...). The app, ``python -m optimizer run`` (flags or
``--request FILE``) and the child process behind ``start_run`` all read the same document, so
the CLI's insights and goal verdicts for a run are the app's. ``to_dict`` / ``from_dict`` are
exact over every field (``optimizer.guide.request_file``): a new field is one edit here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from optimizer.guide.configs import Settings
from optimizer.guide.goal_fields import JUDGES, GoalFields
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.request_file import request_from_dict, request_to_dict
from optimizer.recommendation.decide import Answers

__all__ = ["RunRequest"]


def _tuple(values) -> tuple:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(str(v) for v in values)


@dataclass(frozen=True)
class RunRequest(GoalFields):
    """A run: a model ref, technique specs, optional data and ``k=v`` settings, and the answers
    and goals its results are judged by (None: not given; see ``GoalFields``).

    Specs and settings are validated when the request is built (``ValueError`` naming the fix).
    ``techniques`` is kept canonical (each spec's ``text``, once, float32 left out: it always
    runs); ``specs`` adds the float32 baseline first. ``answers.target`` and ``target`` are one
    answer: given one, the other follows; given both, they must agree.
    """

    model: str
    techniques: tuple = ()
    data: str | None = None
    settings: tuple = ()
    answers: Answers | None = field(default=None, metadata=JUDGES)

    def __post_init__(self):
        if not str(self.model or "").strip():
            raise ValueError("no model given: pass a demo name (e.g. digits-cnn) or a model file")
        canonical = []
        for text in _tuple(self.techniques):
            spec = parse_spec(text).text
            if spec != TechniqueId.FLOAT32.value and spec not in canonical:
                canonical.append(spec)
        object.__setattr__(self, "techniques", tuple(canonical))
        object.__setattr__(self, "settings", _tuple(self.settings))
        Settings.from_pairs(self.settings)
        if isinstance(self.answers, dict):
            object.__setattr__(self, "answers", Answers.from_dict(self.answers))
        if self.answers is not None and not isinstance(self.answers, Answers):
            raise ValueError(f"answers must be Answers(...) or its to_dict(), not "
                             f"{type(self.answers).__name__}")
        if self.answers is not None:
            said = self.answers.target
            if self.target is None:
                object.__setattr__(self, "target", said)
            elif str(getattr(self.target, "value", self.target)) != said.value:
                raise ValueError(f"the answers say target '{said.value}' but the request says "
                                 f"'{getattr(self.target, 'value', self.target)}'; give one "
                                 "target")
        super().__post_init__()

    @property
    def specs(self) -> tuple:
        """Canonical spec texts, float32 first, each once."""
        return (TechniqueId.FLOAT32.value,) + self.techniques

    def to_dict(self) -> dict:
        """Every field, JSON-ready and exact (what ``request.json`` holds)."""
        return request_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunRequest":
        """Inverse of ``to_dict``; unknown keys raise ``ValueError`` naming the valid ones."""
        return request_from_dict(cls, data, "run request")

    def measured_dict(self) -> dict:
        """``to_dict()`` without the fields that only judge the results (answers and goals):
        two requests with the same measured part measure the same thing (the cache's key)."""
        judging = {f.name for f in fields(self) if f.metadata.get("judges")}
        return {k: v for k, v in self.to_dict().items() if k not in judging}

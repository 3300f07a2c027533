"""The Run page's cluster line: absent with the local executor, a warning naming the fix when
the ray executor is set without an address."""
from __future__ import annotations

from app_helpers import goto, new_app


def test_no_cluster_line_with_the_local_executor(monkeypatch):
    monkeypatch.delenv("OPTIMIZER_EXECUTOR", raising=False)
    at = goto(new_app(), "pages/run.py")
    assert not [w for w in at.warning if "Ray cluster" in w.value]
    assert not [c for c in at.caption if "Ray cluster" in c.value]


def test_a_ray_executor_without_an_address_is_a_warning_naming_the_fix(monkeypatch):
    monkeypatch.setenv("OPTIMIZER_EXECUTOR", "ray")
    monkeypatch.delenv("OPTIMIZER_RAY_ADDRESS", raising=False)
    at = goto(new_app(), "pages/run.py")
    warnings = [w.value for w in at.warning]
    assert any("OPTIMIZER_RAY_ADDRESS=HOST:PORT" in w for w in warnings), warnings

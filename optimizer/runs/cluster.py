"""The Ray cluster's size and queue, for the Run page when the executor is ``ray``.

Read in a child process (``python -m optimizer cluster --json -``) so the app server never
imports Ray nor becomes a Ray driver; ``cluster_status()`` returns None for the local executor.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from optimizer import numbers
from optimizer.procs import child_env
from optimizer.runs.executor import ExecutorKind, choose_executor

PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ClusterStatus:
    """What the cluster looks like now: alive nodes, CPUs in all and free, and the CPUs that
    queued tasks are waiting for (None when Ray could not say); ``error`` when unreachable."""

    address: str
    nodes: int = 0
    cpus: float = 0.0
    free_cpus: float = 0.0
    waiting_cpus: float | None = None
    error: str | None = None

    @property
    def text(self) -> str:
        """One line for the page."""
        if self.error:
            return f"Ray cluster at {self.address}: {self.error}"
        queue = ("" if self.waiting_cpus is None else
                 f"; queue: tasks waiting for {numbers.plain(self.waiting_cpus)} CPUs" if self.waiting_cpus
                 else "; no task waiting")
        return (f"Ray cluster at {self.address}: {self.nodes} node{'s' * (self.nodes != 1)}, "
                f"{numbers.plain(self.cpus)} CPUs, {numbers.plain(self.free_cpus)} free{queue}")


def cluster_status(environ=None) -> ClusterStatus | None:
    """The cluster the environment's executor points at (None for ``local``)."""
    try:
        choice = choose_executor(environ=environ)
    except ValueError as exc:
        return ClusterStatus(address="?", error=str(exc))
    if choice.kind != ExecutorKind.RAY:
        return None
    command = [sys.executable, "-m", "optimizer", "cluster", "--ray-address", choice.address,
               "--json", "-"]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              env=child_env(die_with_parent=True),
                              timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return ClusterStatus(choice.address, error=f"no answer within {numbers.seconds(PROBE_TIMEOUT_S)}")
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return ClusterStatus(choice.address, error=lines[-1] if lines else "unreachable")
    return ClusterStatus(**json.loads(done.stdout))


def probe(address: str) -> dict:
    """Connect to the cluster (inside ``python -m optimizer cluster``) and read its state."""
    from optimizer.runs.ray_executor import RayExecutor, cluster_size

    executor = RayExecutor(address)
    try:
        size = cluster_size(executor.ray)
        return {"address": address, "nodes": size["nodes"], "cpus": size["cpus"],
                "free_cpus": size["free_cpus"], "waiting_cpus": _waiting_cpus(address)}
    finally:
        executor.close()


def _waiting_cpus(address: str) -> float | None:
    """CPUs asked for by tasks that wait for a free one (the autoscaler's view of demand)."""
    try:
        from ray.autoscaler.v2.sdk import get_cluster_status

        status = get_cluster_status(address)
        return float(sum(d.bundles_by_count[0].bundle.get("CPU", 0) * d.bundles_by_count[0].count
                         for d in status.resource_demands.ray_task_actor_demand
                         if d.bundles_by_count))
    except Exception:  # an internal API: when it moves, the page simply shows no queue
        return None

"""Where a run's jobs execute: ``local`` (child processes on this server, the default) or
``ray`` (tasks on a Ray cluster, ``runs.ray_executor``).

Chosen by ``--executor ray --ray-address HOST:PORT`` on ``run`` and ``search``, or by the
environment (``OPTIMIZER_EXECUTOR=ray``, ``OPTIMIZER_RAY_ADDRESS=HOST:PORT``); the flags win.
Every executor offers the same calls the orchestrator and the search use: ``run_job``
(one job -> one ``Result`` per spec, never raises), ``time_latency`` (fill the latency fields of
a job's results), ``slot`` (the context a whole run holds while it executes) and
``timing_node`` (the machine that times latency: part of the result cache's key).
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.job import JobSpec
from optimizer.guide.configs import Settings
from optimizer.guide.schema import Result
from optimizer.runs.local import measure_job_latency, run_job

ENV_EXECUTOR = "OPTIMIZER_EXECUTOR"
ENV_RAY_ADDRESS = "OPTIMIZER_RAY_ADDRESS"
_ADDRESS = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$")


class ExecutorKind(str, Enum):
    """The executors a run or a search can use."""

    LOCAL = "local"
    RAY = "ray"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ExecutorChoice:
    """Which executor to use and, for ``ray``, the cluster's ``HOST:PORT``; validated when
    built (a bad value raises ``ValueError`` naming the fix)."""

    kind: ExecutorKind = ExecutorKind.LOCAL
    address: str | None = None

    def __post_init__(self):
        try:
            object.__setattr__(self, "kind", ExecutorKind(str(self.kind).strip().lower()))
        except ValueError:
            raise ValueError(f"unknown executor {self.kind!r}; use one of: "
                             f"{', '.join(k.value for k in ExecutorKind)}") from None
        if self.kind == ExecutorKind.RAY:
            if not self.address:
                raise ValueError(f"the ray executor needs the cluster's address: pass "
                                 f"--ray-address HOST:PORT or set {ENV_RAY_ADDRESS}=HOST:PORT")
            if not _ADDRESS.match(self.address):
                raise ValueError(f"ray address {self.address!r} is not HOST:PORT; pass the "
                                 f"head's address, e.g. 10.0.0.5:6379")

    def to_args(self) -> list[str]:
        """The command-line flags that select this executor in a child command."""
        if self.kind == ExecutorKind.LOCAL:
            return []
        return ["--executor", self.kind.value, "--ray-address", str(self.address)]


def choose_executor(kind: str | None = None, address: str | None = None,
                    environ=None) -> ExecutorChoice:
    """The executor asked for by flags (``kind``/``address``), else by the environment."""
    environ = os.environ if environ is None else environ
    kind = kind or environ.get(ENV_EXECUTOR) or ExecutorKind.LOCAL.value
    address = address or environ.get(ENV_RAY_ADDRESS) or None
    return ExecutorChoice(kind, address)


class Executor(Protocol):
    """What the orchestrator and the search's evaluator need from an executor."""

    name: str

    def run_job(self, job: JobSpec, log: EventLog, model_name: str) -> list[Result]: ...

    def time_latency(self, results: list[Result], settings: Settings, log: EventLog) -> None: ...

    def slot(self, log: EventLog, info: dict | None = None): ...

    def timing_node(self) -> dict: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Each job in a worker process on this machine (a fork of the slot's warm job process,
    ``runs.warm``), latency in a LiteRT-only child, the whole run holding one of the server's
    worker slots (``runs.slots``)."""

    name = ExecutorKind.LOCAL.value

    def __init__(self):
        self.slot_index: int | None = None   # the worker slot held, inside ``slot()``

    def run_job(self, job: JobSpec, log: EventLog, model_name: str) -> list[Result]:
        results = run_job(job, log, model_name, slot=self.slot_index)
        for r in results:
            r.executor = self.name
        return results

    def time_latency(self, results: list[Result], settings: Settings, log: EventLog) -> None:
        measure_job_latency(results, settings, log)

    @contextmanager
    def slot(self, log: EventLog, info: dict | None = None):
        """One of the server's worker slots; ``info`` (``slots.run_info``) describes this
        run to the ones queued behind it."""
        from optimizer.runs.slots import worker_slot

        with worker_slot(on_wait=lambda m, **f: log.emit(EventType.QUEUED, message=m, **f),
                         info=info) as index:
            self.slot_index = index
            try:
                yield
            finally:
                self.slot_index = None

    def timing_node(self) -> dict:
        """This machine: latency is timed here."""
        from optimizer.artifacts.provenance import local_node

        return local_node(self.name)

    def close(self) -> None:
        return None


def make_executor(choice: ExecutorChoice | None = None) -> Executor:
    """The executor for ``choice`` (default: from the environment); ray connects here."""
    choice = choice or choose_executor()
    if choice.kind == ExecutorKind.RAY:
        from optimizer.runs.ray_executor import RayExecutor

        return RayExecutor(choice.address)
    return LocalExecutor()

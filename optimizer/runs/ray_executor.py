"""The ``ray`` executor: each job a Ray task on a cluster, latency timed on one node.

* A job is a streaming task (``ray_tasks.run_job_remote``) asking for ``job_cpus`` CPUs; the
  model/data files and the float32 reference travel with it as bytes, its progress events are
  relayed into the run's ``events.jsonl`` as they come, and its folder (``.tflite`` files,
  recipes, log, results) comes back into the run folder, paths rewritten. No disk is shared.
* Latency: every file of a run is timed on the same node (the largest one, chosen once), one
  file after another in one LiteRT-only process, by a task that takes *all* that node's CPUs so
  nothing else of the cluster runs beside it.
* A task whose worker dies (killed, out of memory, node lost) becomes error results for its
  techniques; the others go on. SIGTERM (the app's Cancel) cancels the tasks in flight.

Ray is imported here only, through ``compat.ray()``, when this executor is built.
"""
from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path

from optimizer import compat, paths
from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog, EventType
from optimizer.artifacts.job import JobSpec
from optimizer.guide.configs import Settings
from optimizer.guide.schema import Result, Status
from optimizer.runs.local import describe_exit, fill_latency
from optimizer.runs.ray_tasks import (
    JOB_FILES,
    describe_node_remote,
    pack,
    rebase,
    run_job_remote,
    time_files_remote,
    unpack,
)

NAME = "ray"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (Ray's carry a traceback)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class RayExecutor:
    """Runs jobs on the Ray cluster at ``address`` (``HOST:PORT`` of its head)."""

    name = NAME

    def __init__(self, address: str, job_cpus: int = 1):
        self.ray = compat.ray()
        self.address = address
        try:
            # Workers import the same package: where it is a checkout at the same path (tests,
            # one machine), PYTHONPATH finds it; elsewhere the installed package is used.
            self.ray.init(address=address, log_to_driver=False, logging_level="ERROR",
                          runtime_env={"env_vars": {"PYTHONPATH": str(paths.REPO_ROOT)}})
        except Exception as exc:
            raise ValueError(f"cannot reach the Ray cluster at {address} ({first_line(exc)}); "
                             f"start it with `ray start --head --port PORT` or fix "
                             f"--ray-address / OPTIMIZER_RAY_ADDRESS") from None
        self._job_task = self.ray.remote(run_job_remote).options(
            num_cpus=job_cpus, max_retries=0, num_returns="streaming")
        self.job_cpus = job_cpus
        self._in_flight: set = set()
        self._latency_node: tuple | None = None
        self._timing_node: dict | None = None
        signal.signal(signal.SIGTERM, self._on_term)

    # -- the executor protocol ----------------------------------------------------------------
    def run_job(self, job: JobSpec, log: EventLog, model_name: str, watch=None,
                announce: bool = True) -> list[Result]:
        """Run ``job`` as one task; one result per spec, error results if the task died.

        ``watch()`` (a search's clock, stop flag and projection) is asked every couple of
        seconds; a reason it returns cancels the task and becomes "cancelled" results.
        ``announce=False`` leaves the job started/finished events to the caller.
        """
        store.write_json_atomic(job.path, job.to_dict())
        for spec in job.specs if announce else ():
            log.emit(EventType.JOB_STARTED, spec, message=f"{job.id} started on the Ray cluster",
                     job=job.id)
        doc, inputs, moves = ship(job)
        failure, end, stopped = None, None, None
        generator = self._job_task.remote(doc, inputs, moves)
        self._in_flight.add(generator)
        try:
            for ref in generator:
                item = self.ray.get(ref)
                for event in item.get("events", ()):
                    event = {k: v for k, v in event.items() if k != "t"}
                    log.emit(event.pop("type"), event.pop("technique", None), **event)
                if "returncode" in item:
                    end = item
                elif watch is not None and (stopped := watch()):
                    self.ray.cancel(generator, force=True)
                    break
        except self.ray.exceptions.RayError as exc:
            failure = (f"the Ray worker running {job.id} died or failed "
                       f"({first_line(exc)}); the other techniques went on")
        finally:
            self._in_flight.discard(generator)
        produced, returncode = {}, None
        if end is not None:
            returncode = end["returncode"]
            unpack(end["files"], job.run_dir)
            results = rebase(end["results"], end["run_dir"], str(Path(job.run_dir)))
            if results:
                store.write_json_atomic(job.results_path, results)
            produced = {r["technique"]: Result.from_dict(r) for r in results.get("results", [])}
            failure = describe_exit(returncode, job.log_path) + f" on node {end['node']}"
        out = [produced.get(s) or (Result.failed(s, stopped, model=model_name,
                                                  status=Status.CANCELLED) if stopped else
                                    Result.failed(s, failure, model=model_name))
               for s in job.specs]
        for r in out:
            r.executor = self.name
        if not announce:
            return out
        log.emit(EventType.JOB_FINISHED, None, job=job.id, returncode=returncode,
                 message=f"{job.id} finished on the Ray cluster"
                         + (f" with exit status {returncode}" if end else f": {failure}"))
        return out

    def time_latency(self, results: list[Result], settings: Settings, log: EventLog) -> None:
        """Time the results' files on the latency node and fill their latency fields."""
        timed = [r for r in results if r.ok and r.tflite_path]
        if not timed:
            return
        log.progress([r.technique for r in timed], "latency", fraction=0.97,
                     message="timing latency on the cluster's latency node")
        root = os.path.commonpath([str(Path(r.tflite_path).parent) for r in timed])
        names = [str(Path(r.tflite_path).relative_to(root)) for r in timed]
        try:
            node_id, cpus = self.latency_node()
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            task = self.ray.remote(time_files_remote).options(
                num_cpus=cpus, max_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False))
            out = self.ray.get(task.remote(pack(root, names), names, settings.latency))
        except Exception as exc:  # latency is one measurement among several: keep the result
            for r in timed:
                r.notes = list(r.notes) + [f"latency not measured on the cluster: "
                                           f"{first_line(exc)}"]
            return
        fill_latency(timed, {r.tflite_path: out["stats"].get(n) for r, n in zip(timed, names)},
                     out["host"])
        for r in timed:
            r.node, r.cpu = out["node"], out["cpu"]

    def timing_node(self) -> dict:
        """The latency node as ``provenance.local_node`` describes it there (asked once, by a
        one-CPU task pinned to it); an unreachable node is described as unknown."""
        if self._timing_node is None:
            try:
                node_id, _ = self.latency_node()
                from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                task = self.ray.remote(describe_node_remote).options(
                    num_cpus=0, max_retries=0,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False))
                self._timing_node = self.ray.get(task.remote(), timeout=120)
            except Exception as exc:   # the run goes on; its key then matches no other run
                return {"executor": NAME, "name": None, "cpu": None,
                        "host": f"unknown Ray latency node ({first_line(exc)})"}
        return dict(self._timing_node)

    @contextmanager
    def slot(self, log: EventLog, info: dict | None = None):
        """No server slot: the cluster's scheduler queues tasks by their CPU needs."""
        size = cluster_size(self.ray)
        log.emit(EventType.QUEUED, message=f"running on the Ray cluster at {self.address}: "
                                           f"{size['nodes']} nodes, {size['cpus']:g} CPUs, "
                                           f"{size['free_cpus']:g} free")
        yield

    def close(self) -> None:
        self.ray.shutdown()

    def width(self) -> int:
        """How many jobs fit side by side now: the cluster's free CPUs per job (at least 1)."""
        free = self.ray.available_resources().get("CPU", 0)
        return max(1, int(free // self.job_cpus))

    # -- helpers ------------------------------------------------------------------------------
    def latency_node(self) -> tuple:
        """The node every latency of this executor is timed on (the alive node with most CPUs,
        chosen once) and its CPU count (the timing task takes them all)."""
        if self._latency_node is None:
            nodes = [n for n in self.ray.nodes()
                     if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) >= 1]
            if not nodes:
                raise RuntimeError("the Ray cluster has no alive node with a CPU")
            best = max(nodes, key=lambda n: n["Resources"]["CPU"])
            self._latency_node = (best["NodeID"], int(best["Resources"]["CPU"]))
        return self._latency_node

    def _on_term(self, signum, frame):
        """Cancel: stop every task in flight (their worker children die with them)."""
        for ref in list(self._in_flight):
            try:
                self.ray.cancel(ref, force=True)
            except Exception:
                pass
        raise SystemExit(128 + signum)


def ship(job: JobSpec) -> tuple[dict, bytes | None, dict]:
    """The job as a dict, an archive of the local files it needs, and where each went.

    Shipped: the model file (an upload's whole folder for an ``upload.json``), the data file,
    the float32 reference outputs and the files beside the job file (``<job id>.*``, e.g. a
    selective job's task). A demo name needs nothing: workers have the demo assets.
    """
    wanted: dict[str, Path] = {}
    model = Path(str(job.model))
    if model.is_file():
        wanted[str(model.parent if model.name == "upload.json" else model)] = model
    if job.data and Path(job.data).is_file() and not any(
            str(Path(job.data)).startswith(k + os.sep) for k in wanted):
        wanted[str(Path(job.data))] = Path(job.data)
    if job.reference and job.reference.get("outputs") and Path(job.reference["outputs"]).is_file():
        wanted[str(Path(job.reference["outputs"]))] = Path(job.reference["outputs"])
    own = {job.path.name, job.log_path.name, job.results_path.name}
    sidecars = [p for p in Path(job.run_dir).glob(f"{job.id}.*") if p.name not in own]
    if not wanted and not sidecars:
        return job.to_dict(), None, {}
    import tempfile

    moves = {}
    with tempfile.TemporaryDirectory(prefix="optimizer-ship-") as tmp:
        if sidecars:   # files the worker reads beside its job file (a selective job's task)
            (Path(tmp) / JOB_FILES).mkdir()
            for path in sidecars:
                os.symlink(path.resolve(), Path(tmp) / JOB_FILES / path.name)
        for number, key in enumerate(sorted(wanted)):
            name = f"in{number}"
            source = Path(key)
            target = Path(tmp) / name
            if source.is_dir():
                os.symlink(source, target)
            else:
                target.mkdir()
                os.symlink(source, target / source.name)
                name = f"{name}/{source.name}"
            moves[key] = name
        folders = {m.split("/")[0] for m in moves.values()} | ({JOB_FILES} if sidecars else set())
        data = pack(tmp, sorted(folders), dereference=True)
    # the longest (most specific) prefix first, so a folder move never swallows a file's
    ordered = dict(sorted(moves.items(), key=lambda kv: -len(kv[0])))
    return job.to_dict(), data, ordered


def cluster_size(ray) -> dict:
    """The cluster's alive nodes, total CPUs and free CPUs right now (for the Run page)."""
    total, free = ray.cluster_resources(), ray.available_resources()
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {"nodes": len(nodes), "cpus": float(total.get("CPU", 0)),
            "free_cpus": float(free.get("CPU", 0))}

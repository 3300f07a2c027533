"""Where a measurement came from: the project's code version, the packages, the machines.

A run's JSON (``results.json``, ``run --json``, ``show --json``) carries
``"provenance": {"code": {"version", "sources"}, "packages": {..}, "machine": .., "node": {..}}``
and the result cache's key holds the same code version and timing node, so a changed
converter, dataset or default never gets another version's numbers.

``code`` is the package's version plus a SHA-256 over the library's own sources (every
``optimizer/**/*.py``) and the shipped assets a run depends on (``assets/demos/**/*``: the demos'
weights and definitions), computed once per process (about 3.5 MB read). ``machine`` is the
machine that ran the orchestrator; ``node`` the one that timed the latency (the same machine
for the local executor, the latency node of a Ray cluster). Nothing here imports TensorFlow.
"""
from __future__ import annotations

import functools
import hashlib
import socket
from importlib import metadata
from pathlib import Path

from optimizer import paths
from optimizer.artifacts.store import library_versions

#: The distribution name of this project (``pyproject.toml``).
DISTRIBUTION = "litert-optimization-studio"
#: The folder holding ``optimizer/`` and ``assets/`` whose files are hashed.
SOURCE_ROOT = paths.REPO_ROOT
#: The hashed files, relative to ``SOURCE_ROOT``.
SOURCE_PATTERNS = ("optimizer/**/*.py", "assets/demos/**/*")


def sources_digest(root: Path | str) -> str:
    """Hex SHA-256 over the relative path and bytes of every file ``SOURCE_PATTERNS`` match
    under ``root``, in sorted order (a renamed, added or removed file changes it too)."""
    root = Path(root)
    files = sorted({p for pattern in SOURCE_PATTERNS for p in root.glob(pattern) if p.is_file()
                    and "__pycache__" not in p.parts})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(paths.file_sha256(path).encode() + b"\n")
    return digest.hexdigest()


def package_version() -> str:
    """The installed version of this project ("unknown" when it is not installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=4)
def _code_version(root: str) -> tuple:
    return package_version(), sources_digest(root)


def code_version() -> dict:
    """``{"version": "0.3.0", "sources": "<sha256>"}`` of the code in ``SOURCE_ROOT``
    (hashed once per process and root)."""
    version, sources = _code_version(str(SOURCE_ROOT))
    return {"version": version, "sources": sources}


def local_node(executor: str = "local") -> dict:
    """This machine as a timing node: ``{"executor", "name", "cpu", "host"}`` (``host`` is
    the CPU model, cores and LiteRT version that ``measured_on`` shows)."""
    from optimizer.measuring.latency import cpu_model, host_description

    return {"executor": str(executor), "name": socket.gethostname(), "cpu": cpu_model(),
            "host": host_description()}


def provenance(node: dict | None = None) -> dict:
    """The provenance of a run measured now on this machine, timed on ``node`` (default:
    this machine)."""
    from optimizer.measuring.latency import host_description

    return {"code": code_version(), "packages": library_versions(),
            "machine": {"name": socket.gethostname(), "host": host_description()},
            "node": dict(node) if node else local_node()}

"""Capture what native code writes to the process's stderr (file descriptor 2).

TFLite Micro names a missing op only on stderr ("Didn't find op for builtin opcode 'ATAN2'")
and raises a bare "TFLM failed to allocate tensors"; the vendor compilers log the same way.
Redirecting fd 2 affects the whole process, so the checks run in a CLI process of their own
(the app calls ``python -m optimizer readiness``).
"""
from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from contextlib import contextmanager


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers: TFLM's messages sit in them until the process exits."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextmanager
def native_stderr(into: list):
    """Within the block, fd 2 goes to a temporary file; its lines are appended to ``into``."""
    sys.stderr.flush()
    _flush_c_stdio()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield into
        finally:
            sys.stderr.flush()
            _flush_c_stdio()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            into.extend(line.strip() for line in sink.read().decode(errors="replace")
                        .splitlines() if line.strip())

"""Feeding samples to a ``.tflite`` whose batch dimension is fixed (a file from elsewhere may fix
it at 3, say): in batches of that size, the last partial batch padded with copies of its last
sample and the padding's outputs dropped, so every sample is measured once and only once.

A file whose batch dimension is resizable (-1 in the shape signature, what the converter writes
for a Keras model) takes any number of samples per ``invoke()``; ``fixed_batch`` then returns
None and callers pick their own chunk size.
"""
from __future__ import annotations

import numpy as np

from optimizer.text import N_


def fixed_batch(details) -> int | None:
    """The batch size fixed by the inputs' shape signatures (``get_input_details()``), or None
    when it can be resized. Raises ``ValueError`` when the inputs fix different batches."""
    fixed = set()
    for detail in details:
        signature = detail.get("shape_signature")
        signature = detail["shape"] if signature is None or not len(signature) else signature
        if len(signature) and int(signature[0]) != -1:
            fixed.add(int(signature[0]))
    if not fixed:
        return None
    if len(fixed) > 1:
        raise ValueError(f"the model's inputs fix different batch sizes ({sorted(fixed)}); "
                         f"export it with one batch size (or a resizable one) for every input")
    return fixed.pop()


def padded(part: np.ndarray, size: int) -> np.ndarray:
    """``part`` (up to ``size`` samples) filled up to ``size`` with copies of its last sample."""
    missing = size - len(part)
    if missing <= 0:
        return part
    return np.concatenate([part, np.repeat(part[-1:], missing, axis=0)], axis=0)


#: The timing's note for a fixed batch (a message id: ``latency.note_words`` reads it back).
BATCH_TIMING_NOTE = N_("the file fixes its batch at {batch}: each timed invoke() runs {batch} "
                       "samples")


def batch_note(batch: int | None, timing: bool = False) -> str | None:
    """What a measurement on a fixed batch other than 1 means (for accuracy, or with
    ``timing`` for latency), or None."""
    if batch is None or batch == 1:
        return None
    if timing:
        return BATCH_TIMING_NOTE.format(batch=batch)
    return (f"the file fixes its batch at {batch}: samples run {batch} per invoke() (the last "
            f"batch padded, the padding's outputs dropped)")

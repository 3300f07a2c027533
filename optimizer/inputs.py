"""Samples of a model with several inputs: one array per input name, sliced together.

A single-input model's samples are one array; a model with several inputs (an image and a
table, token ids and a mask) gets an ``Inputs``: named arrays with the same number of samples
that index, slice and convert together, so the code that splits, samples and measures data
does not need to know how many inputs there are. Each consumer that talks to a runtime
(the LiteRT interpreter, the converter's calibration, Keras' ``fit``) orders the arrays by
the model's own input names with ``ordered``, which names a missing or unknown input.

In ``.npz`` files an input's arrays are stored under ``<split>.<input name>`` keys
(``x_train.image``, ``x_test.image``, unlabelled ``x.image``). Pure NumPy.
"""
from __future__ import annotations

import re

import numpy as np

#: Splits whose samples may be named per input in an ``.npz``.
SPLITS = ("x_train", "x_test", "x_rep", "x")


class Inputs:
    """Named input arrays holding the same number of samples, in a fixed name order.

    ``inputs["image"]`` is one input's array; ``inputs[3:10]`` or ``inputs[index_array]``
    takes those samples of every input. ``len`` is the number of samples.
    """

    __slots__ = ("_arrays",)

    def __init__(self, arrays: dict):
        if not arrays:
            raise ValueError("no input arrays: give one array per model input")
        arrays = {str(k): np.asarray(v) for k, v in arrays.items()}
        counts = {k: len(v) if v.ndim else 0 for k, v in arrays.items()}
        if len(set(counts.values())) > 1:
            listed = ", ".join(f"{k}: {n}" for k, n in counts.items())
            raise ValueError(f"every input needs the same number of samples ({listed}); give "
                             "each sample all of the model's inputs")
        self._arrays = arrays

    @property
    def names(self) -> tuple:
        return tuple(self._arrays)

    @property
    def arrays(self) -> tuple:
        return tuple(self._arrays.values())

    def items(self):
        return self._arrays.items()

    def shapes(self) -> dict:
        """Each input's sample shape (without the batch axis)."""
        return {k: tuple(v.shape[1:]) for k, v in self._arrays.items()}

    def __len__(self) -> int:
        return len(next(iter(self._arrays.values())))

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._arrays[key]
        return Inputs({k: v[key] for k, v in self._arrays.items()})

    def astype(self, dtype, copy: bool = True) -> "Inputs":
        return Inputs({k: v.astype(dtype, copy=copy) for k, v in self._arrays.items()})

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape}" for k, v in self._arrays.items())
        return f"Inputs({shapes})"


def is_multi(x) -> bool:
    """True for ``Inputs`` (samples of a model with several inputs)."""
    return isinstance(x, Inputs)


def count(x) -> int:
    """Samples in ``x`` (an array, ``Inputs`` or a list of arrays, one per input)."""
    if isinstance(x, (list, tuple)):
        return len(x[0]) if x else 0
    return len(x)


def as_float32(x):
    """``x`` as float32 (None stays None)."""
    if x is None:
        return None
    if isinstance(x, Inputs):
        return x.astype(np.float32, copy=False)
    return np.asarray(x, dtype=np.float32)


def key(name) -> str:
    """How an input name compares: without a ``:0`` tensor suffix or a ``serving_default_``
    prefix, with characters TensorFlow refuses in names replaced by ``_``."""
    text = re.sub(r":\d+$", "", str(name))
    text = re.sub(r"^serving_default_", "", text)
    return re.sub(r"[^A-Za-z0-9_.\-/]", "_", text)


def ordered(x, names, what: str = "the samples") -> list:
    """The arrays of ``x`` in the order of the model's input ``names``.

    ``x`` is an array (one input), a list of arrays (already in model order) or ``Inputs``
    (matched by name, see ``key``). Raises ``ValueError`` naming a missing or extra input.
    """
    names = [str(n) for n in names]
    if isinstance(x, Inputs):
        by_key = {key(n): n for n in x.names}
        missing = [n for n in names if key(n) not in by_key]
        if missing:
            raise ValueError(f"{what} have no input {', '.join(repr(m) for m in missing)} "
                             f"(they have {', '.join(repr(n) for n in x.names)}); name the "
                             f"arrays after the model's inputs: {', '.join(names)}")
        extra = sorted(set(by_key) - {key(n) for n in names})
        if extra:
            raise ValueError(f"{what} have input {', '.join(repr(by_key[e]) for e in extra)}"
                             f" which the model does not take (its inputs: "
                             f"{', '.join(names)}); drop it or rename it")
        return [x[by_key[key(n)]] for n in names]
    arrays = list(x) if isinstance(x, (list, tuple)) else [x]
    if len(arrays) != len(names):
        raise ValueError(f"the model has {len(names)} input{'s' if len(names) > 1 else ''} "
                         f"({', '.join(names)}) but {len(arrays)} arrays were given; give one "
                         f"array per input (named after them for several)")
    return arrays


def from_npz(arrays: dict, split: str):
    """The ``split`` samples of an ``.npz``'s arrays: ``arrays[split]``, or the ``Inputs``
    of its ``<split>.<name>`` keys, or None when it has neither."""
    named = {k[len(split) + 1:]: v for k, v in arrays.items() if k.startswith(split + ".")}
    if split in arrays and named:
        raise ValueError(f"the data has both '{split}' and '{split}.<input>' arrays; keep one "
                         "form: a plain array for a one-input model, named arrays for several")
    if named:
        return Inputs(named)
    return arrays.get(split)


def to_npz(split: str, x) -> dict:
    """The ``.npz`` entries for ``x``: ``{split: x}`` or ``{split.name: array, ...}``."""
    if x is None:
        return {}
    if isinstance(x, Inputs):
        return {f"{split}.{name}": array for name, array in x.items()}
    return {split: x}

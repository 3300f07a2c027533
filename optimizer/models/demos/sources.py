"""The demos' raw data and fixed splits, shipped in ``assets/demos/data/`` (no scikit-learn at run time).

Three sources feed the five demos: scikit-learn's 8x8 digits, its breast-cancer table, and the
synthetic waveforms (``waveforms.py``, NumPy only). Each source's file holds its stratified
split (``train_idx``, ``test_idx``: 25 % test, ``random_state`` fixed, made by
``split_indices``) and, for the two scikit-learn sources, the data itself (pixels as
the integers 0..16 they are; the table as float64; class names as text). Loading a file is a
few milliseconds, where importing scikit-learn and splitting took about a second of every
fresh job process's start.

Files are ``.npz`` read with ``allow_pickle=False``. ``python -m optimizer.models.demos.sources
--write`` regenerates them from scikit-learn; ``tests/test_demos.py`` checks that the shipped
files equal what it would write.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from optimizer.paths import ASSETS

DATA_DIR = ASSETS / "demos" / "data"
TEST_FRACTION = 0.25
SPLIT_SEED = 0
#: source name -> whether its file carries the data (else only the split)
SOURCES = {"digits": True, "breast_cancer": True, "waveforms": False}


def split_indices(y: np.ndarray, test_fraction: float = TEST_FRACTION,
                  seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Stratified ``(train_idx, test_idx)`` for labels ``y``; the same for the same inputs."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(y))
    train_idx, test_idx = train_test_split(index, test_size=test_fraction, stratify=y,
                                           random_state=seed)
    return train_idx, test_idx


def source_path(source: str, folder: Path = DATA_DIR) -> Path:
    if source not in SOURCES:
        raise ValueError(f"no shipped data source '{source}'; known: {', '.join(SOURCES)}")
    return folder / f"{source}.npz"


def load_source(source: str, folder: Path = DATA_DIR) -> dict:
    """The arrays of ``source``'s shipped file (``train_idx``, ``test_idx`` and, for the
    scikit-learn sources, ``x``, ``y``, ``class_names``). Raises ``FileNotFoundError`` naming
    the regeneration command when the file is missing."""
    path = source_path(source, folder)
    if not path.exists():
        raise FileNotFoundError(f"the demo data file {path.name} is missing from {path.parent}; "
                                f"regenerate it with: python -m optimizer.models.demos.sources "
                                f"--write")
    with np.load(path, allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def build_source(source: str) -> dict:
    """What ``source``'s file holds, computed afresh (needs scikit-learn)."""
    if source == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        arrays = {"x": digits.images.astype(np.uint8), "y": digits.target.astype(np.int64),
                  "class_names": np.array([str(i) for i in range(10)])}
    elif source == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        table = load_breast_cancer()
        arrays = {"x": table.data.astype(np.float64), "y": table.target.astype(np.int64),
                  "class_names": np.array([str(n) for n in table.target_names])}
    else:
        from optimizer.models.demos.waveforms import make_waveforms

        arrays = {"y": make_waveforms()[1]}
    train_idx, test_idx = split_indices(arrays["y"])
    kept = arrays if SOURCES[source] else {}
    return {**kept, "train_idx": train_idx.astype(np.int64), "test_idx": test_idx.astype(np.int64)}


def write_sources(folder: Path = DATA_DIR) -> list[Path]:
    """Write every source's file into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in SOURCES:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **build_source(source))
        path = source_path(source, folder)
        path.write_bytes(buffer.getvalue())
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optimizer.models.demos.sources",
                                     description="Regenerate the demos' shipped data files.")
    parser.add_argument("--write", action="store_true", help="write assets/demos/data/*.npz")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write into")
    args = parser.parse_args(argv)
    if not args.write:
        parser.print_help()
        return 2
    for path in write_sources(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

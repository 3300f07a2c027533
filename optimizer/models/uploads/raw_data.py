"""What reading a data file produces and how it is read: ``DataOptions`` and ``RawData``.

Shared by every data loader (``data_files`` for ``.npz`` and CSV, ``images`` for image zips),
so the loaders depend on this module and not on each other. Pure Python and NumPy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from optimizer.text import msg

#: Pixel value ranges images can be scaled to (the model's own preprocessing decides which).
PIXEL_RANGES = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1-1": (-1.0, 1.0)}


TEST_FRACTION = 0.25


@dataclass(frozen=True)
class DataOptions:
    """How to read a data file: the CSV's label column (None: unlabelled), the range images
    are scaled to, and the share of samples held out as the test split when the file is not
    split already."""

    label_column: str | None = None
    pixel_range: str = "0-1"
    test_fraction: float = TEST_FRACTION
    seed: int = 0

    def __post_init__(self):
        if self.pixel_range not in PIXEL_RANGES:
            raise ValueError(msg("unknown pixel range '{pixel_range}'; use one of {join}",
                                 pixel_range=self.pixel_range, join=', '.join(PIXEL_RANGES)))
        if not 0.05 <= float(self.test_fraction) <= 0.9:
            raise ValueError(msg("test_fraction must be between 0.05 and 0.9"))


@dataclass(frozen=True, eq=False)
class RawData:
    """Arrays from a data file: ``arrays`` holds x_train/y_train/x_test/y_test(/x_rep), or x
    (and maybe y) to be split. ``source`` is "npz", "images" or "csv"."""

    source: str
    arrays: dict
    class_names: tuple = ()
    notes: tuple = field(default=())

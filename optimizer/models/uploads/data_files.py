"""Uploaded data, parsed safely: an ``.npz``, a zip of images in class folders, or a CSV.

Each loader returns ``RawData``: the arrays as found (already split, or one ``x``/``y`` to be
split), class names and notes for the user. Deciding what the arrays mean for the model
(task, labels, shapes) is ``validate``'s job.

Safety: an ``.npz`` is a zip, so its entries are checked like any archive and every array
header is read first (a header can claim terabytes; nothing is allocated beyond
``max_array_mb``); arrays load with ``allow_pickle=False`` (object arrays are refused, never
unpickled). Images are decoded by Pillow from PNG, JPEG, BMP, GIF or WebP only, each image's
pixel count is checked from its header before decoding, and at most ``max_images`` are read,
straight from the zip (nothing is extracted). A CSV is read by pandas as plain text.
Nothing here imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from optimizer.models.uploads.archives import check_zip, open_zip
from optimizer.models.uploads.errors import DataMismatch, TooLarge, UnreadableFile, UnsafeArchive
from optimizer.models.uploads.limits import ENV, Limits, check_upload_size, human_size, limits
from optimizer.models.uploads.raw_data import TEST_FRACTION, DataOptions, RawData
from optimizer.text import figure, msg

DATA_SUFFIXES = (".npz", ".zip", ".csv")


def load_data_file(path: Path | str, options: DataOptions | None = None,
                   input_shape: tuple | None = None, lim: Limits | None = None) -> RawData:
    """Parse an uploaded data file by its type (checked from its bytes, not only its name).

    ``input_shape`` (one sample, no batch axis) is needed for an image zip: images are
    resized to it. Raises ``UploadError`` subclasses with one-line messages.
    """
    options = options or DataOptions()
    lim = lim or limits()
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(msg("data file not found: {path}; check the path", path=path))
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise UnreadableFile(msg("unsupported data file '{name}': upload an .npz, a zip of images in "
                                 "class folders, or a CSV",
                                 name=path.name))
    check_upload_size(path, msg("data file {name}", name=path.name), lim)
    with open(path, "rb") as handle:
        head = handle.read(4)
    if suffix in (".npz", ".zip") and head[:2] != b"PK":
        raise UnreadableFile(
            msg("{name} is not a zip archive, so not a valid .npz; save it with numpy.savez",
                name=path.name) if suffix == ".npz" else
            msg("{name} is not a zip archive, so not a valid image zip; zip the image folders",
                name=path.name))
    if suffix == ".npz":
        return load_npz_file(path, lim)
    if suffix == ".zip":
        from optimizer.models.uploads.images import load_image_zip

        return load_image_zip(path, input_shape, options, lim)
    return load_csv_file(path, options, lim)


# -- .npz ----------------------------------------------------------------------------------------

def load_npz_file(path: Path, lim: Limits | None = None) -> RawData:
    """Arrays of an ``.npz`` (``x_train, y_train, x_test, y_test``, or ``x`` [+ ``y``])."""
    lim = lim or limits()
    with open_zip(path, msg("data file")) as zf:
        infos = check_zip(zf, lim, msg("data file {name}", name=path.name))
        for info in infos:
            _check_npy_header(zf, info, lim, path.name)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise DataMismatch(msg("{name} holds object arrays (pickled Python objects), which are never "
                                   "loaded from an upload; save plain numeric arrays with numpy.savez",
                                   name=path.name)) from None
        raise UnreadableFile(msg("{name} cannot be read as an .npz ({exc}); save it again with numpy.savez",
                                 name=path.name, exc=exc)) from None
    except (OSError, EOFError) as exc:
        raise UnreadableFile(msg("{name} is damaged ({exc}); save it again with numpy.savez",
                                 name=path.name, exc=exc)) \
            from None
    splits = {k.split(".", 1)[0] for k in arrays}  # x_train.image -> x_train
    if {"x_train", "y_train", "x_test", "y_test"} <= splits:
        wanted = ("x_train", "y_train", "x_test", "y_test", "x_rep")
    elif "x" in splits:
        wanted = ("x", "y")
    else:
        raise DataMismatch(msg("{name} has arrays {arrays}; expected x_train, y_train, x_test, y_test "
                               "(labelled) or x (unlabelled samples); for a model with several inputs "
                               "name them x_train.<input name>, x_test.<input name> (or x.<input name>)",
                               name=path.name, arrays=sorted(arrays)))
    out = {k: v for k, v in arrays.items() if k.split(".", 1)[0] in wanted
           and ("." not in k or k.startswith("x"))}
    for key, value in out.items():
        if value.dtype.kind not in "biuf" and not (key.startswith("y") and value.dtype.kind == "U"):
            raise DataMismatch(msg("array '{key}' in {name} has dtype {dtype}, not numbers; save numeric "
                                   "arrays",
                                   key=key, name=path.name, dtype=value.dtype))
    class_names: tuple = ()
    for key in ("y_train", "y_test", "y"):
        if key in out and out[key].dtype.kind == "U":
            names = sorted(set(np.concatenate([out[k] for k in ("y_train", "y_test", "y")
                                               if k in out]).tolist()))
            class_names = tuple(names)
            lookup = {n: i for i, n in enumerate(names)}
            for k in ("y_train", "y_test", "y"):
                if k in out:
                    out[k] = np.array([lookup[v] for v in out[k].tolist()], dtype=np.int64)
            break
    return RawData(source="npz", arrays=out, class_names=class_names)


def _check_npy_header(zf, info, lim: Limits, name: str) -> None:
    """Read one member's .npy header and refuse arrays larger than the limits (before numpy
    would allocate them) or object arrays."""
    if not info.filename.endswith(".npy"):
        return
    try:
        with zf.open(info) as handle:
            version = np.lib.format.read_magic(handle)
            reader = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if reader is None:
                raise ValueError(msg("unsupported .npy version {version}", version=version))
            shape, _, dtype = reader(handle)
    except ValueError as exc:
        raise UnreadableFile(msg("array {filename!r} in {name} has a damaged header ({exc}); save it "
                                 "again with numpy.savez",
                                 filename=info.filename, name=name, exc=exc)) from None
    if dtype.hasobject:
        raise DataMismatch(msg("{name} holds object arrays (pickled Python objects), which are never "
                               "loaded from an upload; save plain numeric arrays",
                               name=name))
    nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if nbytes > lim.max_array_bytes:
        raise TooLarge(msg("array {filename!r} in {name} is {human_size}, over the {max_array_mb} MB "
                           "limit; upload less data or raise {max_array_mb2}",
                           filename=info.filename, name=name, human_size=human_size(nbytes),
                           max_array_mb=lim.max_array_mb, max_array_mb2=ENV['max_array_mb']))
    if nbytes > int(info.file_size):
        raise UnsafeArchive(msg("array {filename!r} in {name} claims {human_size} but stores "
                                "{human_size2}; the file is damaged or hostile, save it again",
                                filename=info.filename, name=name, human_size=human_size(nbytes),
                                human_size2=human_size(info.file_size)))


# -- CSV -----------------------------------------------------------------------------------------

def csv_columns(path: Path | str, lim: Limits | None = None) -> list[str]:
    """The column names of a CSV's header (for choosing the label column)."""
    import pandas as pd

    check_upload_size(Path(path), msg("data file {name}", name=Path(path).name), lim)
    try:
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableFile(msg("{name} cannot be read as a CSV ({exc}); save it as comma-separated text "
                                 "with a header row",
                                 name=Path(path).name, exc=exc)) from None


def csv_header(head: bytes) -> list[str]:
    """Column names from the first bytes of a CSV (the header row), parsed by the ``csv``
    module only: cheap and safe enough to run where the upload arrives (the page)."""
    import csv

    text = bytes(head[:65536]).decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    try:
        row = next(csv.reader([first]), [])
    except csv.Error:
        return []
    return [c.strip() for c in row if c.strip()][:2000]


def load_csv_file(path: Path, options: DataOptions | None = None,
                  lim: Limits | None = None) -> RawData:
    """Feature columns (all but the label column) and, if chosen, the label column."""
    import pandas as pd

    options = options or DataOptions()
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFile(msg("{name} cannot be read as a CSV ({first}); save it as comma-separated "
                                 "text with a header row",
                                 name=path.name, first=first)) from None
    if frame.empty or frame.shape[1] == 0:
        raise DataMismatch(msg("{name} has no data rows; upload a CSV with a header and rows",
                               name=path.name))
    label = options.label_column
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    y, class_names, notes = None, (), []
    if label is not None:
        if label not in columns:
            raise DataMismatch(msg("column '{label}' is not in {name} (columns: {join}); choose the label "
                                   "column from those",
                                   label=label, name=path.name, join=', '.join(columns[:20])))
        target = frame.pop(label)
        y, class_names = _csv_labels(target, label)
        notes.append(msg("label column '{label}'", label=label))
    if frame.shape[1] == 0:
        raise DataMismatch(msg("{name} has no feature columns besides '{label}'; upload the input "
                               "features too",
                               name=path.name, label=label))
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        hint = (msg(", or choose '{column}' as the label column (--label-column {column})",
                    column=text[0]) if label is None and len(text) == 1 else "")
        raise DataMismatch(msg("column(s) {columns} of {name} are not numbers; encode them as "
                               "numbers or drop them{hint}",
                               columns=", ".join(repr(c) for c in text[:5]), name=path.name,
                               hint=hint))
    x = frame.to_numpy(dtype=np.float32)
    if not np.isfinite(x).all():
        row, col = np.argwhere(~np.isfinite(x))[0]
        raise DataMismatch(msg("{name} has {count} empty or non-finite cells (first: column "
                               "'{column}', row {row}); fill them in or drop those rows",
                               name=path.name, count=int((~np.isfinite(x)).sum()),
                               column=frame.columns[col], row=row + 1))
    notes.insert(0, msg("{rows} rows, {columns} feature columns", rows=figure(int(x.shape[0])),
                        columns=x.shape[1]))
    arrays = {"x": x} if y is None else {"x": x, "y": y}
    return RawData(source="csv", arrays=arrays, class_names=class_names, notes=tuple(notes))


def _csv_labels(column, label: str):
    import pandas as pd

    if column.isna().any():
        raise DataMismatch(msg("label column '{label}' has {int} empty cells; fill them in or drop those "
                               "rows",
                               label=label, int=int(column.isna().sum())))
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(), ()
    names = sorted(str(v) for v in column.unique())
    lookup = {n: i for i, n in enumerate(names)}
    return np.array([lookup[str(v)] for v in column], dtype=np.int64), tuple(names)


# -- splitting and the prepared file -------------------------------------------------------------

def split(x: np.ndarray, y: np.ndarray | None, test_fraction: float = TEST_FRACTION,
          seed: int = 0) -> dict:
    """Shuffle and split into train/test (stratified when every class has 2+ samples)."""
    n = len(x)
    if n < 2:
        raise DataMismatch(msg("only {n} sample(s); upload at least a few dozen", n=n))
    rng = np.random.default_rng(seed)
    if y is not None and y.dtype.kind in "iu":
        test = []
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            for c in classes:
                members = rng.permutation(np.flatnonzero(y == c))
                take = max(1, int(round(len(members) * test_fraction)))
                test.extend(members[:take].tolist())
            test_idx = np.array(sorted(test))
            train_idx = np.setdiff1d(np.arange(n), test_idx)
            return _pick(x, y, rng.permutation(train_idx), test_idx)
    order = rng.permutation(n)
    cut = max(1, int(round(n * test_fraction)))
    return _pick(x, y, order[cut:], np.sort(order[:cut]))


def _pick(x, y, train_idx, test_idx) -> dict:
    out = {"x_train": x[train_idx], "x_test": x[test_idx]}
    if y is not None:
        out["y_train"], out["y_test"] = y[train_idx], y[test_idx]
    return out

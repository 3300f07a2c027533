"""Image-folder datasets: a zip of PNG/JPEG/BMP/GIF/WebP files, one folder per class.

Images are read straight from the (already checked) zip, never extracted. Each image's pixel
count is read from its header and checked against ``max_image_pixels`` before Pillow decodes
it (Pillow's decompression-bomb warning is an error here), at most ``max_images`` are read,
and only the formats above are accepted. Images are converted to the model's channels (1:
grayscale, 3: RGB, 4: RGBA), resized to its height and width, and scaled to the chosen pixel
range; the notes say so. A zip without class folders is unlabelled samples. No TensorFlow.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path, PurePosixPath

import numpy as np

from optimizer.models.uploads.archives import check_zip, open_zip, read_member
from optimizer.models.uploads.errors import DataMismatch, TooLarge, UnreadableFile
from optimizer.models.uploads.limits import ENV, Limits, limits
from optimizer.models.uploads.raw_data import PIXEL_RANGES, DataOptions, RawData

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
PILLOW_FORMATS = ["PNG", "JPEG", "BMP", "GIF", "WEBP"]


def load_image_zip(path: Path, input_shape: tuple | None, options: DataOptions | None = None,
                   lim: Limits | None = None) -> RawData:
    """Images from a zip: one folder per class (labelled) or all at the top (unlabelled).

    Images are converted to the model's channels (1: grayscale, 3: RGB), resized to its height
    and width, and scaled to ``options.pixel_range``.
    """
    from PIL import Image

    options = options or DataOptions()
    lim = lim or limits()
    height, width, channels = _image_target(input_shape)
    with open_zip(path, "image zip") as zf:
        infos = check_zip(zf, lim, f"image zip {path.name}")
        entries, skipped = _image_entries(infos)
        if not entries:
            raise DataMismatch(f"{path.name} holds no PNG, JPEG, BMP, GIF or WebP images; zip a "
                               f"folder with one sub-folder of images per class")
        if len(entries) > lim.max_images:
            raise TooLarge(f"{path.name} holds {len(entries):,} images, over the limit of "
                           f"{lim.max_images:,}; upload fewer images or raise "
                           f"{ENV['max_images']}")
        classes = sorted({label for label, _ in entries if label is not None})
        labelled = bool(classes)
        if labelled and any(label is None for label, _ in entries):
            raise DataMismatch(f"{path.name} mixes images in class folders with images outside "
                               f"them; put every image in its class's folder")
        x = np.empty((len(entries), height, width, channels), dtype=np.float32)
        resized = 0
        lo, hi = PIXEL_RANGES[options.pixel_range]
        for i, (_label, info) in enumerate(entries):
            pixels, was_resized = _decode(Image, zf, info, lim, (height, width, channels))
            resized += was_resized
            x[i] = lo + pixels * ((hi - lo) / 255.0)
    y = np.array([classes.index(label) for label, _ in entries], dtype=np.int64) if labelled \
        else None
    notes = [f"{len(entries):,} images decoded"
             + (f" in {len(classes)} classes ({', '.join(classes[:12])}"
                f"{', ...' if len(classes) > 12 else ''})" if labelled else " (no class folders: "
                "unlabelled samples)"),
             f"pixels scaled to {options.pixel_range.replace('-1-1', '[-1, 1]')}"
             f"{'' if options.pixel_range == '-1-1' else ' range'}"]
    if resized:
        notes.append(f"{resized:,} images resized to {height}x{width} (the model's input)")
    if skipped:
        notes.append(f"{skipped:,} non-image files ignored")
    arrays = {"x": x} if y is None else {"x": x, "y": y}
    return RawData(source="images", arrays=arrays, class_names=tuple(classes),
                   notes=tuple(notes))


def _image_target(input_shape) -> tuple[int, int, int]:
    if input_shape is None:
        raise DataMismatch("an image zip needs the model's input size; check the model first")
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] not in (1, 3, 4) or any(d is None for d in shape):
        described = "x".join("?" if d is None else str(d) for d in shape)
        raise DataMismatch(f"the model expects inputs of shape {described}, not images "
                           f"(height x width x 1 or 3 channels); upload an .npz or CSV instead")
    return int(shape[0]), int(shape[1]), int(shape[2])


def _image_entries(infos) -> tuple[list, int]:
    """(class or None, entry) per image, stripping one common top folder; and skipped count."""
    images, skipped = [], 0
    for info in infos:
        parts = PurePosixPath(info.filename).parts
        if any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue
        if PurePosixPath(info.filename).suffix.lower() not in IMAGE_SUFFIXES:
            skipped += 1
            continue
        images.append((parts, info))
    if images:
        tops = {parts[0] for parts, _ in images}
        if len(tops) == 1 and all(len(parts) > 2 for parts, _ in images):
            images = [(parts[1:], info) for parts, info in images]  # a single wrapping folder
        elif len(tops) == 1 and all(len(parts) == 2 for parts, _ in images):
            images = [(parts[1:], info) for parts, info in images]  # one folder of images
    entries = [(parts[0] if len(parts) > 1 else None, info)
               for parts, info in sorted(images, key=lambda e: e[1].filename)]
    return entries, skipped


def _decode(Image, zf, info, lim: Limits, target) -> tuple[np.ndarray, bool]:
    height, width, channels = target
    data = read_member(zf, info, lim.max_upload_bytes)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=PILLOW_FORMATS) as image:
                w, h = image.size
                if w * h > lim.max_image_pixels:
                    raise TooLarge(f"image {info.filename!r} is {w}x{h} pixels, over the limit "
                                   f"of {lim.max_image_pixels:,}; shrink it or raise "
                                   f"{ENV['max_image_pixels']}")
                image.seek(0)
                converted = image.convert(mode)
                resized = converted.size != (width, height)
                if resized:
                    converted = converted.resize((width, height), Image.BILINEAR)
                pixels = np.asarray(converted, dtype=np.float32)
    except TooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(f"image {info.filename!r} decodes to too many pixels (decompression "
                       f"bomb); shrink it") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnreadableFile(f"image {info.filename!r} cannot be decoded ({exc}); upload PNG or "
                             f"JPEG files") from None
    return pixels.reshape(height, width, channels), resized

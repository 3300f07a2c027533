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
from optimizer.text import figure, msg

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
    with open_zip(path, msg("image zip")) as zf:
        infos = check_zip(zf, lim, msg("image zip {name}", name=path.name))
        entries, skipped = _image_entries(infos)
        if not entries:
            raise DataMismatch(msg("{name} holds no PNG, JPEG, BMP, GIF or WebP images; zip a folder with "
                                   "one sub-folder of images per class",
                                   name=path.name))
        if len(entries) > lim.max_images:
            raise TooLarge(msg("{name} holds {count} images, over the limit of {limit}; upload "
                               "fewer images or raise {variable}", name=path.name,
                               count=figure(len(entries)), limit=figure(lim.max_images),
                               variable=ENV["max_images"]))
        classes = sorted({label for label, _ in entries if label is not None})
        labelled = bool(classes)
        if labelled and any(label is None for label, _ in entries):
            raise DataMismatch(msg("{name} mixes images in class folders with images outside them; put "
                                   "every image in its class's folder",
                                   name=path.name))
        x = np.empty((len(entries), height, width, channels), dtype=np.float32)
        resized = 0
        lo, hi = PIXEL_RANGES[options.pixel_range]
        for i, (_label, info) in enumerate(entries):
            pixels, was_resized = _decode(Image, zf, info, lim, (height, width, channels))
            resized += was_resized
            x[i] = lo + pixels * ((hi - lo) / 255.0)
    y = np.array([classes.index(label) for label, _ in entries], dtype=np.int64) if labelled \
        else None
    names = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
    scale = {"0-1": "0-1", "0-255": "0-255", "-1-1": "[-1, 1]"}.get(options.pixel_range,
                                                                    options.pixel_range)
    notes = [msg("{count} images decoded in {classes} classes ({names})", count=figure(len(entries)),
                 classes=len(classes), names=names) if labelled else
             msg("{count} images decoded (no class folders: unlabelled samples)",
                 count=figure(len(entries))),
             msg("pixels scaled to {scale}", scale=scale)]
    if resized:
        notes.append(msg("{resized} images resized to {height}x{width} (the model's input)",
                         resized=figure(resized), height=height, width=width))
    if skipped:
        notes.append(msg("{skipped:,} non-image files ignored", skipped=skipped))
    arrays = {"x": x} if y is None else {"x": x, "y": y}
    return RawData(source="images", arrays=arrays, class_names=tuple(classes),
                   notes=tuple(notes))


def _image_target(input_shape) -> tuple[int, int, int]:
    if input_shape is None:
        raise DataMismatch(msg("an image zip needs the model's input size; check the model first"))
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] not in (1, 3, 4) or any(d is None for d in shape):
        described = "x".join("?" if d is None else str(d) for d in shape)
        raise DataMismatch(msg("the model expects inputs of shape {described}, not images (height x width "
                               "x 1 or 3 channels); upload an .npz or CSV instead",
                               described=described))
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
                    raise TooLarge(msg("image {filename!r} is {w}x{h} pixels, over the limit of "
                                       "{max_image_pixels:,}; shrink it or raise {max_image_pixels2}",
                                       filename=info.filename, w=w, h=h,
                                       max_image_pixels=lim.max_image_pixels,
                                       max_image_pixels2=ENV['max_image_pixels']))
                image.seek(0)
                converted = image.convert(mode)
                resized = converted.size != (width, height)
                if resized:
                    converted = converted.resize((width, height), Image.BILINEAR)
                pixels = np.asarray(converted, dtype=np.float32)
    except TooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(msg("image {filename!r} decodes to too many pixels (decompression bomb); shrink it",
                           filename=info.filename)) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnreadableFile(msg("image {filename!r} cannot be decoded ({exc}); upload PNG or JPEG files",
                                 filename=info.filename, exc=exc)) from None
    return pixels.reshape(height, width, channels), resized

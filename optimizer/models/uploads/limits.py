"""Size and count limits for untrusted uploads, with defaults and environment overrides.

An upload is refused (``TooLarge``, one line: the limit, the size and how to raise it) before
anything parses it. The limits are read from the environment on every call (no module-level
state), so a server operator sets them once for the app, the CLI and the job processes:

=====================================  ===========  ===========================================
variable                               default      what it bounds
=====================================  ===========  ===========================================
``OPTIMIZER_MAX_UPLOAD_MB``            200          one uploaded file (model or data)
``OPTIMIZER_MAX_EXTRACT_MB``           1024         everything unpacked from one archive
``OPTIMIZER_MAX_ARCHIVE_FILES``        20000        entries in one archive
``OPTIMIZER_MAX_COMPRESSION_RATIO``    200          unpacked / packed bytes, per entry and total
``OPTIMIZER_MAX_IMAGES``               20000        images decoded from an image-folder zip
``OPTIMIZER_MAX_IMAGE_PIXELS``         16777216     pixels of one image (4096 x 4096)
``OPTIMIZER_MAX_ARRAY_MB``             2048         one decoded data array (.npz member, CSV)
``OPTIMIZER_PROBE_TIMEOUT_S``          300          loading and checking a model in its process
``OPTIMIZER_SESSION_MAX_AGE_H``        24           idle time before a session's files are swept
=====================================  ===========  ===========================================

The upload limit defaults to Streamlit's own ``server.maxUploadSize`` (200 MB, also set in
``.streamlit/config.toml``), and ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE`` (Streamlit's variable
for that option) is honoured when ``OPTIMIZER_MAX_UPLOAD_MB`` is unset, so the browser and the
library never disagree. The upload page passes ``max_upload_mb`` to ``st.file_uploader`` too.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from optimizer.models.uploads.errors import TooLarge, UploadError
from optimizer.text import figure, msg

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Every bound an upload is checked against (see the module docstring for the defaults)."""

    max_upload_mb: int = 200
    max_extract_mb: int = 1024
    max_archive_files: int = 20000
    max_compression_ratio: float = 200.0
    max_images: int = 20000
    max_image_pixels: int = 4096 * 4096
    max_array_mb: int = 2048
    probe_timeout_s: float = 300.0
    session_max_age_h: float = 24.0
    max_checks: int = 1     # upload checks at once on the server (each loads TensorFlow)

    def __post_init__(self):
        for name in ("max_upload_mb", "max_extract_mb", "max_archive_files", "max_images",
                     "max_image_pixels", "max_array_mb", "max_checks"):
            if int(getattr(self, name)) < 1:
                raise ValueError(msg("limit {name} must be a positive whole number", name=name))
        for name in ("max_compression_ratio", "probe_timeout_s", "session_max_age_h"):
            if float(getattr(self, name)) <= 0:
                raise ValueError(msg("limit {name} must be positive", name=name))

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb) * MB

    @property
    def max_extract_bytes(self) -> int:
        return int(self.max_extract_mb) * MB

    @property
    def max_array_bytes(self) -> int:
        return int(self.max_array_mb) * MB

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


#: Environment variable of each limit (``OPTIMIZER_<NAME upper>``, with a few renamings).
ENV = {
    "max_upload_mb": "OPTIMIZER_MAX_UPLOAD_MB",
    "max_extract_mb": "OPTIMIZER_MAX_EXTRACT_MB",
    "max_archive_files": "OPTIMIZER_MAX_ARCHIVE_FILES",
    "max_compression_ratio": "OPTIMIZER_MAX_COMPRESSION_RATIO",
    "max_images": "OPTIMIZER_MAX_IMAGES",
    "max_image_pixels": "OPTIMIZER_MAX_IMAGE_PIXELS",
    "max_array_mb": "OPTIMIZER_MAX_ARRAY_MB",
    "probe_timeout_s": "OPTIMIZER_PROBE_TIMEOUT_S",
    "session_max_age_h": "OPTIMIZER_SESSION_MAX_AGE_H",
    "max_checks": "OPTIMIZER_MAX_CHECKS",
}
STREAMLIT_UPLOAD_ENV = "STREAMLIT_SERVER_MAX_UPLOAD_SIZE"


def limits(environ=None) -> Limits:
    """The limits in force: defaults overridden by the environment (read on every call).

    Raises ``UploadError`` naming the variable when one is set to something unusable.
    """
    env = os.environ if environ is None else environ
    values = {}
    for name, variable in ENV.items():
        text = env.get(variable)
        if text is None and name == "max_upload_mb":
            text = env.get(STREAMLIT_UPLOAD_ENV)
            variable = STREAMLIT_UPLOAD_ENV
        if text is None or not str(text).strip():
            continue
        kind = type(Limits.__dataclass_fields__[name].default)
        try:
            values[name] = kind(float(text)) if kind is int else kind(text)
        except ValueError:
            raise UploadError(msg("{variable}={text!r} is not a number; set it to e.g. {default}",
                                  variable=variable, text=text,
                                  default=Limits.__dataclass_fields__[name].default)) from None
    try:
        return Limits(**values)
    except ValueError as exc:
        raise UploadError(msg("{exc}; fix the OPTIMIZER_* environment variable", exc=exc)) from None


def human_size(nbytes: float) -> str:
    """e.g. "1.5 MB" (1 MB = 1,048,576 bytes, as Streamlit counts)."""
    value = float(nbytes)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"


def check_upload_size(size_or_path, what: str | None = None, lim: Limits | None = None) -> int:
    """Refuse a file larger than the upload limit (``TooLarge``) or empty (``UploadError``).

    ``size_or_path`` is a byte count or a path. Returns the size in bytes.
    """
    lim = lim or limits()
    what = what or msg("upload")
    size = (Path(size_or_path).stat().st_size if isinstance(size_or_path, (str, Path))
            else int(size_or_path))
    if size == 0:
        from optimizer.models.uploads.errors import UnreadableFile

        raise UnreadableFile(msg("the {what} is empty (0 bytes); upload the file again", what=what))
    if size > lim.max_upload_bytes:
        name = Path(size_or_path).name if isinstance(size_or_path, (str, Path)) else ""
        raise TooLarge(msg("the {what} is {mib} MiB ({mb} MB), over the {limit} MiB upload limit "
                           "(1 MiB = 1,048,576 bytes); {hint}upload a smaller file or raise "
                           "{variable}", what=what, mib=figure(size / MB, "fixed", decimals=1),
                           mb=figure(size / 1e6, "fixed", decimals=1),
                           limit=lim.max_upload_mb, hint=keras_size_hint(name),
                           variable=ENV["max_upload_mb"]))
    return size


def keras_size_hint(name: str) -> str:
    """For a Keras file: how to drop the optimizer state it may carry (often half its size,
    Adam keeps two slots per weight), with a trailing "; "."""
    if not str(name).lower().endswith((".keras", ".h5", ".hdf5")):
        return ""
    return msg("a Keras file saved from a compiled model carries its optimizer state: save it "
               "without it (tf_keras: model.save(path, include_optimizer=False); Keras 3: save an "
               "uncompiled copy of the model) to shrink it, or ")

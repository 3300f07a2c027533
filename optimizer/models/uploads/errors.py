"""The errors an upload can end in: each message is one line naming the cause and the fix.

Every class is a ``ValueError``, so the CLI prints it as ``error: ...`` with a non-zero exit
status and the pages show it with ``layout.show_error``; none of them carries a traceback to
the user. ``kind`` is a short stable code (tests and the UI match on it, never on wording).
A message made with ``optimizer.text.msg`` travels as data (``error.message``): ``str(error)``
is English, and the page writes it in its reader's language (``render(error.message)``).
"""
from __future__ import annotations

from optimizer.text import Message


class UploadError(ValueError):
    """An uploaded file cannot be used; ``str(error)`` is one line: the cause and the fix."""

    kind = "unusable"

    def __init__(self, message):
        # One line, always: a message that leaks a multi-line library error would break the
        # CLI's contract (one line, no traceback) and clutter the page.
        self.message = message if isinstance(message, Message) else None
        text = " ".join(str(message).split())
        super().__init__(text)


class TooLarge(UploadError):
    """A file, an archive or a decoded array exceeds a configured limit."""

    kind = "too-large"


class UnsafeArchive(UploadError):
    """An archive entry would escape its folder, is a link, or the archive is a zip bomb."""

    kind = "unsafe-archive"


class UnsafeModel(UploadError):
    """A model would run code from the upload (Lambda layer, custom class, Python op)."""

    kind = "unsafe-model"


class UnreadableFile(UploadError):
    """A file is empty, truncated, of the wrong type or otherwise cannot be parsed."""

    kind = "unreadable"


class DataMismatch(UploadError):
    """The data does not fit the model (shape, dtype, labels) or is unusable (NaN, too few)."""

    kind = "data-mismatch"


class ProbeFailed(UploadError):
    """Loading the model in its sandbox process failed, crashed or timed out."""

    kind = "probe-failed"


def first_line(exc: BaseException, limit: int = 240) -> str:
    """The first non-empty line of an exception's message (or its type name), shortened."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()[:limit]
    return type(exc).__name__

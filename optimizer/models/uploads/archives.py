"""Safe reading and extraction of uploaded zip archives.

An uploaded zip (a SavedModel folder, an image-folder dataset, a ``.keras`` file, an ``.npz``)
is untrusted. Before a single byte is unpacked, every entry is checked (``check_zip``):

- names: no absolute paths (``/x``, ``C:\\x``), no ``..`` component, no backslashes or NUL
  bytes, no two entries that land on the same path;
- types: no symbolic links (a zip stores them as entries whose Unix mode is ``S_IFLNK``; a link
  could point anywhere, so none is accepted), no devices or pipes, no encrypted entries;
- sizes: at most ``max_archive_files`` entries, at most ``max_extract_mb`` unpacked in total,
  and an unpacked/packed ratio of at most ``max_compression_ratio`` for any entry over 1 MB
  and for the whole archive (a zip bomb packs gigabytes of zeros into kilobytes).

Extraction (``safe_extract``) then re-checks each target path against the destination, opens
every file with ``O_EXCL | O_NOFOLLOW`` and counts the bytes actually written, so a header that
lies about its size cannot overrun the limits either. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from optimizer.models.uploads.errors import TooLarge, UnreadableFile, UnsafeArchive
from optimizer.models.uploads.limits import ENV, Limits, human_size, limits
from optimizer.text import msg

#: Entries up to this size are not ratio-checked: small files of zeros compress 1000:1
#: legitimately, and a bomb needs size to do harm.
RATIO_MIN_BYTES = 1024 * 1024
_CHUNK = 1 << 20


def open_zip(path: Path | str, what: str = "archive") -> zipfile.ZipFile:
    """Open a zip for reading; ``UnreadableFile`` (one line) when it is not a valid zip."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UnreadableFile(msg("the {what} {name} is not a valid zip file (truncated or another "
                                 "format); create it again with a zip tool",
                                 what=what, name=Path(path).name)) from None
    except OSError as exc:
        raise UnreadableFile(msg("cannot read the {what} {name} ({value}); upload it again",
                                 what=what, name=Path(path).name, value=exc.strerror or exc)) from None


def entry_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The entry's relative path, or ``UnsafeArchive`` when it could escape the folder."""
    name = info.filename
    if "\x00" in name or "\\" in name:
        raise UnsafeArchive(msg("archive entry {name!r} has a backslash or NUL byte in its name; create "
                                "the zip with forward-slash paths",
                                name=name))
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchive(msg("archive entry {name!r} has an absolute path; create the zip from inside "
                                "the folder so every path is relative",
                                name=name))
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise UnsafeArchive(msg("archive entry {name!r} points outside the archive folder ('..'); create "
                                "the zip from inside the folder without '..' paths",
                                name=name))
    return PurePosixPath(*[p for p in parts if p not in ("", ".")]) if parts else PurePosixPath()


def _unix_type(info: zipfile.ZipInfo) -> int:
    mode = info.external_attr >> 16
    return stat.S_IFMT(mode) if info.create_system == 3 and mode else 0


def check_zip(zf: zipfile.ZipFile, lim: Limits | None = None, what: str = "archive") -> list:
    """Check every entry of an open zip (see the module docstring); return the file entries.

    Raises ``UnsafeArchive`` or ``TooLarge`` naming the entry and the fix. Directory entries
    are checked but not returned.
    """
    lim = lim or limits()
    infos = zf.infolist()
    if len(infos) > lim.max_archive_files:
        raise TooLarge(msg("the {what} holds {n_infos:,} entries, over the limit of "
                           "{max_archive_files:,}; upload fewer files or raise {max_archive_files2}",
                           what=what, n_infos=len(infos), max_archive_files=lim.max_archive_files,
                           max_archive_files2=ENV['max_archive_files']))
    files, seen, total, packed = [], set(), 0, 0
    for info in infos:
        path = entry_path(info)
        kind = _unix_type(info)
        if kind == stat.S_IFLNK:
            raise UnsafeArchive(msg("archive entry {filename!r} is a symbolic link; links are not "
                                    "accepted: zip the files themselves (zip without -y)",
                                    filename=info.filename))
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchive(msg("archive entry {filename!r} is not a regular file or folder; zip only "
                                    "files and folders",
                                    filename=info.filename))
        if info.flag_bits & 0x1:
            raise UnsafeArchive(msg("archive entry {filename!r} is encrypted; upload a zip without a "
                                    "password",
                                    filename=info.filename))
        key = str(path).lower()
        if key in seen and not info.is_dir():
            raise UnsafeArchive(msg("archive entry {filename!r} appears twice; create the zip again so "
                                    "each path is stored once",
                                    filename=info.filename))
        seen.add(key)
        if info.is_dir() or kind == stat.S_IFDIR:
            continue
        size, csize = int(info.file_size), max(int(info.compress_size), 1)
        if size > RATIO_MIN_BYTES and size / csize > lim.max_compression_ratio:
            raise UnsafeArchive(msg("archive entry {filename!r} unpacks {human_size} into {human_size2} "
                                    "(ratio {value:,.0f}, over {max_compression_ratio:g}): it looks like "
                                    "a zip bomb; upload the files uncompressed or raise "
                                    "{max_compression_ratio2}",
                                    filename=info.filename, human_size=human_size(csize),
                                    human_size2=human_size(size), value=size / csize,
                                    max_compression_ratio=lim.max_compression_ratio,
                                    max_compression_ratio2=ENV['max_compression_ratio']))
        total += size
        packed += csize
        files.append(info)
    if total > lim.max_extract_bytes:
        raise TooLarge(msg("the {what} unpacks to {human_size}, over the {max_extract_mb} MB limit; "
                           "upload less data or raise {max_extract_mb2}",
                           what=what, human_size=human_size(total), max_extract_mb=lim.max_extract_mb,
                           max_extract_mb2=ENV['max_extract_mb']))
    if total > RATIO_MIN_BYTES and total / max(packed, 1) > lim.max_compression_ratio:
        raise UnsafeArchive(msg("the {what} unpacks {human_size} into {human_size2} (ratio {value:,.0f}): "
                                "it looks like a zip bomb; upload the files uncompressed or raise "
                                "{max_compression_ratio}",
                                what=what, human_size=human_size(packed), human_size2=human_size(total),
                                value=total / max(packed, 1),
                                max_compression_ratio=ENV['max_compression_ratio']))
    return files


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """Read one (already checked) entry into memory, refusing more than ``max_bytes``.

    The cap counts bytes actually decompressed, so a lying size header cannot exceed it.
    """
    limit = min(int(max_bytes), int(info.file_size))
    out = bytearray()
    try:
        with zf.open(info) as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                out += chunk
                if len(out) > limit:
                    raise UnsafeArchive(msg("archive entry {filename!r} unpacks to more bytes than its "
                                            "header says; the zip is corrupt or hostile, create it again",
                                            filename=info.filename))
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
        raise UnreadableFile(msg("archive entry {filename!r} cannot be read ({exc}); create the zip again",
                                 filename=info.filename, exc=exc)) from None
    return bytes(out)


def safe_extract(path: Path | str, dest: Path | str, lim: Limits | None = None,
                 what: str = "archive") -> list[Path]:
    """Check a zip and unpack its files under ``dest`` (created if needed); return the paths.

    Raises ``UnreadableFile``, ``UnsafeArchive`` or ``TooLarge`` (nothing is written when the
    entry checks fail; a later failure leaves only files inside ``dest``).
    """
    lim = lim or limits()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written, budget = [], lim.max_extract_bytes
    with open_zip(path, what) as zf:
        for info in check_zip(zf, lim, what):
            relative = entry_path(info)
            target = root.joinpath(*relative.parts)
            if root not in target.parents:
                raise UnsafeArchive(msg("archive entry {filename!r} would land outside the extraction "
                                        "folder; create the zip with relative paths",
                                        filename=info.filename))
            _make_dirs(root, target.parent)
            budget -= _write_entry(zf, info, target, budget)
            written.append(target)
    return written


def _make_dirs(root: Path, folder: Path) -> None:
    """Create ``folder`` under ``root`` one level at a time, refusing anything but real
    folders on the way (a symlinked folder planted earlier could redirect the writes)."""
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            raise UnsafeArchive(msg("archive path {relative_to} is both a file and a folder; create the "
                                    "zip again",
                                    relative_to=current.relative_to(root)))
        current.mkdir(exist_ok=True)


def _write_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise UnsafeArchive(msg("archive entry {filename!r} would overwrite another entry; create the zip "
                                "again",
                                filename=info.filename)) from None
    count = 0
    try:
        with os.fdopen(fd, "wb") as out, zf.open(info) as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                count += len(chunk)
                if count > info.file_size or count > budget:
                    raise UnsafeArchive(msg("archive entry {filename!r} unpacks to more bytes than its "
                                            "header says; the zip is corrupt or hostile, create it again",
                                            filename=info.filename))
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, RuntimeError) as exc:
        raise UnreadableFile(msg("archive entry {filename!r} cannot be read ({exc}); create the zip again",
                                 filename=info.filename, exc=exc)) from None
    return count

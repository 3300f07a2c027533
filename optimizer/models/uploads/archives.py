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

#: Entries up to this size are not ratio-checked: small files of zeros compress 1000:1
#: legitimately, and a bomb needs size to do harm.
RATIO_MIN_BYTES = 1024 * 1024
_CHUNK = 1 << 20


def open_zip(path: Path | str, what: str = "archive") -> zipfile.ZipFile:
    """Open a zip for reading; ``UnreadableFile`` (one line) when it is not a valid zip."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UnreadableFile(f"the {what} {Path(path).name} is not a valid zip file (truncated "
                             f"or another format); create it again with a zip tool") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read the {what} {Path(path).name} ({exc.strerror or exc}); "
                             f"upload it again") from None


def entry_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The entry's relative path, or ``UnsafeArchive`` when it could escape the folder."""
    name = info.filename
    if "\x00" in name or "\\" in name:
        raise UnsafeArchive(f"archive entry {name!r} has a backslash or NUL byte in its name; "
                            f"create the zip with forward-slash paths")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchive(f"archive entry {name!r} has an absolute path; create the zip from "
                            f"inside the folder so every path is relative")
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise UnsafeArchive(f"archive entry {name!r} points outside the archive folder ('..'); "
                            f"create the zip from inside the folder without '..' paths")
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
        raise TooLarge(f"the {what} holds {len(infos):,} entries, over the limit of "
                       f"{lim.max_archive_files:,}; upload fewer files or raise "
                       f"{ENV['max_archive_files']}")
    files, seen, total, packed = [], set(), 0, 0
    for info in infos:
        path = entry_path(info)
        kind = _unix_type(info)
        if kind == stat.S_IFLNK:
            raise UnsafeArchive(f"archive entry {info.filename!r} is a symbolic link; links are "
                                f"not accepted: zip the files themselves (zip without -y)")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchive(f"archive entry {info.filename!r} is not a regular file or "
                                f"folder; zip only files and folders")
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"archive entry {info.filename!r} is encrypted; upload a zip "
                                f"without a password")
        key = str(path).lower()
        if key in seen and not info.is_dir():
            raise UnsafeArchive(f"archive entry {info.filename!r} appears twice; create the zip "
                                f"again so each path is stored once")
        seen.add(key)
        if info.is_dir() or kind == stat.S_IFDIR:
            continue
        size, csize = int(info.file_size), max(int(info.compress_size), 1)
        if size > RATIO_MIN_BYTES and size / csize > lim.max_compression_ratio:
            raise UnsafeArchive(f"archive entry {info.filename!r} unpacks {human_size(csize)} "
                                f"into {human_size(size)} (ratio {size / csize:,.0f}, over "
                                f"{lim.max_compression_ratio:g}): it looks like a zip bomb; "
                                f"upload the files uncompressed or raise "
                                f"{ENV['max_compression_ratio']}")
        total += size
        packed += csize
        files.append(info)
    if total > lim.max_extract_bytes:
        raise TooLarge(f"the {what} unpacks to {human_size(total)}, over the "
                       f"{lim.max_extract_mb} MB limit; upload less data or raise "
                       f"{ENV['max_extract_mb']}")
    if total > RATIO_MIN_BYTES and total / max(packed, 1) > lim.max_compression_ratio:
        raise UnsafeArchive(f"the {what} unpacks {human_size(packed)} into {human_size(total)} "
                            f"(ratio {total / max(packed, 1):,.0f}): it looks like a zip bomb; "
                            f"upload the files uncompressed or raise "
                            f"{ENV['max_compression_ratio']}")
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
                    raise UnsafeArchive(f"archive entry {info.filename!r} unpacks to more bytes "
                                        f"than its header says; the zip is corrupt or hostile, "
                                        f"create it again")
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
        raise UnreadableFile(f"archive entry {info.filename!r} cannot be read ({exc}); create "
                             f"the zip again") from None
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
                raise UnsafeArchive(f"archive entry {info.filename!r} would land outside the "
                                    f"extraction folder; create the zip with relative paths")
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
            raise UnsafeArchive(f"archive path {current.relative_to(root)} is both a file and "
                                f"a folder; create the zip again")
        current.mkdir(exist_ok=True)


def _write_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise UnsafeArchive(f"archive entry {info.filename!r} would overwrite another entry; "
                            f"create the zip again") from None
    count = 0
    try:
        with os.fdopen(fd, "wb") as out, zf.open(info) as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                count += len(chunk)
                if count > info.file_size or count > budget:
                    raise UnsafeArchive(f"archive entry {info.filename!r} unpacks to more bytes "
                                        f"than its header says; the zip is corrupt or hostile, "
                                        f"create it again")
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, RuntimeError) as exc:
        raise UnreadableFile(f"archive entry {info.filename!r} cannot be read ({exc}); create "
                             f"the zip again") from None
    return count

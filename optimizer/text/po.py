"""Read and write gettext ``.po`` files (the subset translators' tools write).

Entries: ``msgctxt`` (optional), ``msgid``, ``msgid_plural`` with ``msgstr[n]``, or ``msgstr``;
strings split over several quoted lines; ``#,`` flags (a ``fuzzy`` entry is not used); ``#:``
references; ``#~`` obsolete entries are skipped. No compile step: the file is read as it is.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    """One message: its context, id (the English text), plural id and translations."""

    msgid: str
    msgstr: tuple[str, ...] = ("",)
    msgctxt: str | None = None
    msgid_plural: str | None = None
    flags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    comments: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return not self.fuzzy and all(s for s in self.msgstr)


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(text: str) -> str:
    return ast.literal_eval(text) if text else ""


def parse(text: str, where: str = "catalogue") -> list[Entry]:
    """The entries of a ``.po`` file's ``text`` (the header entry, msgid "", included);
    ``ValueError`` names the line that is not .po."""
    entries: list[Entry] = []
    cur: dict = {}
    last = None

    def flush() -> None:
        nonlocal cur, last
        if "msgid" in cur:
            strs = cur.get("msgstr", {})
            entries.append(Entry(
                msgid=cur["msgid"], msgctxt=cur.get("msgctxt"),
                msgid_plural=cur.get("msgid_plural"),
                msgstr=tuple(strs[i] for i in sorted(strs)) or ("",),
                flags=tuple(cur.get("flags", ())), references=tuple(cur.get("refs", ())),
                comments=tuple(cur.get("comments", ()))))
        cur, last = {}, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if "msgid" in cur:
                flush()
            cur.setdefault("flags", []).extend(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#:"):
            if "msgid" in cur:
                flush()
            cur.setdefault("refs", []).extend(line[2:].split())
            continue
        if line.startswith("#"):
            if "msgid" in cur:
                flush()
            cur.setdefault("comments", []).append(line[1:].strip())
            continue
        if line.startswith('"'):
            if last is None:
                raise ValueError(f"{where} line {number}: a continued string with nothing "
                                 "before it; start the entry with msgid")
            value = _unquote(line)
            if isinstance(last, tuple):
                cur["msgstr"][last[1]] += value
            else:
                cur[last] += value
            continue
        match = _KEYWORD.match(line)
        if not match:
            raise ValueError(f"{where} line {number}: not a .po line: {line[:60]!r}")
        keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
        if keyword in ("msgctxt", "msgid") and ("msgstr" in cur or
                                                (keyword == "msgctxt" and "msgid" in cur)):
            flush()
        if keyword.startswith("msgstr"):
            slot = int(index) if index is not None else 0
            cur.setdefault("msgstr", {})[slot] = value
            last = ("msgstr", slot)
        else:
            cur[keyword] = value
            last = keyword
    flush()
    return entries


def read(path: Path) -> list[Entry]:
    """The entries of the ``.po`` file at ``path``."""
    return parse(Path(path).read_text(encoding="utf-8"), where=Path(path).name)


def _quote(text: str) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace(
        "\t", "\\t")
    return f'"{body}"'


def _lines(keyword: str, text: str, width: int = 78) -> list[str]:
    """``keyword "text"``, wrapped the way gettext tools wrap long strings."""
    if len(keyword) + len(text) + 3 <= width and "\n" not in text[:-1]:
        return [f"{keyword} {_quote(text)}"]
    out, chunk = [f'{keyword} ""'], ""
    for word in re.findall(r"\S*\s*|\n", text):
        if chunk and len(_quote(chunk + word)) > width:
            out.append(_quote(chunk))
            chunk = ""
        chunk += word
        if chunk.endswith("\n"):
            out.append(_quote(chunk))
            chunk = ""
    if chunk:
        out.append(_quote(chunk))
    return out


def format_entries(entries: list[Entry]) -> str:
    """``entries`` as a ``.po`` file's text (the inverse of ``parse``)."""
    blocks = []
    for entry in entries:
        lines = [f"# {c}" for c in entry.comments]
        if entry.references:
            lines.append("#: " + " ".join(entry.references))
        if entry.flags:
            lines.append("#, " + ", ".join(entry.flags))
        if entry.msgctxt is not None:
            lines += _lines("msgctxt", entry.msgctxt)
        lines += _lines("msgid", entry.msgid)
        if entry.msgid_plural is not None:
            lines += _lines("msgid_plural", entry.msgid_plural)
            for index, value in enumerate(entry.msgstr):
                lines += _lines(f"msgstr[{index}]", value)
        else:
            lines += _lines("msgstr", entry.msgstr[0] if entry.msgstr else "")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"

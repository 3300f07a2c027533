"""Find every message the code asks for, and keep a catalogue in step with them.

The ids are the literal first arguments of ``tr``, ``msg``, ``tr_plural``, ``N_`` and the second of
``trc`` (its first is the context) in ``optimizer/``, ``pages/`` and ``app.py``, read from the
source (``ast``, nothing is imported). A call whose id is not a literal (an f-string, a
variable) is reported: the catalogue could not know it, unless the value was marked with
``N_`` where it was written.

``python -m optimizer.text.extract --update vi`` adds the new ids to ``vi.po`` (untranslated,
for a translator), keeps every translation, and drops ids the code no longer asks for;
``--check vi`` lists what is missing or stale and exits 1 when anything is.
"""
from __future__ import annotations

import argparse
import ast
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from optimizer.text import po
from optimizer.text.catalogue import catalogue_path

ROOT = Path(__file__).resolve().parents[2]
#: Where the app's code is (relative to the repository).
SOURCES = ("optimizer", "pages", "app.py", "serve.py")
_ID_ARG = {"tr": 0, "msg": 0, "N_": 0, "tr_plural": 0, "trc": 1}


@dataclass(frozen=True)
class Found:
    """One message the code asks for."""

    msgid: str
    where: str
    msgctxt: str | None = None
    msgid_plural: str | None = None

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def _name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def scan_source(text: str, where: str) -> tuple[list[Found], list[str]]:
    """The messages one file's source asks for, and its calls whose id is not a literal."""
    found, problems = [], []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call) or _name(node.func) not in _ID_ARG:
            continue
        name = _name(node.func)
        index = _ID_ARG[name]
        if len(node.args) <= index:
            continue
        msgid = _literal(node.args[index])
        place = f"{where}:{node.lineno}"
        if msgid is None:
            if name not in ("tr", "msg"):    # tr(variable): data marked with N_ elsewhere
                problems.append(f"{place}: {name}() needs a literal text as its message id")
            elif isinstance(node.args[index], ast.JoinedStr):
                problems.append(f"{place}: tr() of an f-string cannot be in the catalogue; "
                                "write tr('... {name} ...', name=value)")
            continue
        context = _literal(node.args[0]) if name == "trc" else None
        plural = _literal(node.args[1]) if name == "tr_plural" and len(node.args) > 1 else None
        found.append(Found(msgid, place, context, plural))
    return found, problems


def _files(root: Path):
    for source in SOURCES:
        path = root / source
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def scan(root: Path = ROOT) -> tuple[dict[tuple, list[Found]], list[str]]:
    """Every message id in the code: ``{(context, id): [where it is asked for, ..]}``, and
    the calls that cannot be in a catalogue."""
    messages: dict[tuple, list[Found]] = {}
    problems: list[str] = []
    for path in _files(root):
        found, bad = scan_source(path.read_text(encoding="utf-8"),
                                 str(path.relative_to(root)))
        problems += bad
        for item in found:
            messages.setdefault(item.key, []).append(item)
    return messages, problems


def fields(text: str) -> set[str]:
    """The ``{names}`` a message fills in (empty for a text whose braces are literal)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return set()


def check(lang: str, root: Path = ROOT, path: Path | None = None) -> list[str]:
    """What is wrong with ``lang``'s catalogue against the code: ids without a translation
    (or marked fuzzy), translations the code no longer asks for, translations whose
    ``{names}`` differ from the id's, and calls that cannot be in a catalogue. ``path``: another
    catalogue file to check (default: the language's own)."""
    messages, problems = scan(root)
    entries = {e.key: e for e in po.read(path or catalogue_path(lang)) if e.msgid}
    out = list(problems)
    for key, places in sorted(messages.items(), key=lambda kv: kv[1][0].where):
        entry = entries.get(key)
        label = (f"[{key[0]}] " if key[0] else "") + repr(key[1][:70])
        if entry is None or not entry.translated:
            out.append(f"{places[0].where}: no {lang} translation for {label}")
            continue
        for text in entry.msgstr:
            if fields(text) != fields(key[1]):
                out.append(f"{places[0].where}: the {lang} translation of {label} fills "
                           f"{sorted(fields(text))}, the id {sorted(fields(key[1]))}")
    for key in sorted(set(entries) - set(messages), key=lambda k: k[1]):
        out.append(f"{lang}.po: {key[1][:70]!r} is not asked for by the code any more")
    return out


def update(lang: str, root: Path = ROOT) -> tuple[int, int]:
    """Rewrite ``lang``'s catalogue in the code's order: new ids added untranslated, stale ones
    dropped, every translation kept. Returns (added, dropped)."""
    messages, _ = scan(root)
    path = catalogue_path(lang)
    old = po.read(path) if path.exists() else []
    header = next((e for e in old if not e.msgid), po.Entry(
        "", (f"Content-Type: text/plain; charset=UTF-8\nLanguage: {lang}\n"
             "Plural-Forms: nplurals=1; plural=0;\n",)))
    kept = {e.key: e for e in old if e.msgid}
    out = [header]
    for key, places in messages.items():
        first = places[0]
        entry = kept.get(key) or po.Entry(first.msgid, ("",), first.msgctxt, first.msgid_plural)
        entry.references = tuple(sorted({p.where.rsplit(":", 1)[0] for p in places}))
        out.append(entry)
    path.write_text(po.format_entries(out), encoding="utf-8")
    return len(set(messages) - set(kept)), len(set(kept) - set(messages))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optimizer.text.extract",
                                     description="Keep a language's catalogue in step with "
                                                 "the messages the code asks for.")
    parser.add_argument("--check", metavar="LANG", help="list what is missing or stale")
    parser.add_argument("--update", metavar="LANG", help="add new ids, drop stale ones")
    args = parser.parse_args(argv)
    if args.update:
        added, dropped = update(args.update)
        print(f"{catalogue_path(args.update).name}: {added} new (untranslated), "
              f"{dropped} dropped")
    if args.check:
        problems = check(args.check)
        print("\n".join(problems) or f"{args.check}: every message is translated")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every text an AppTest page shows: element bodies, labels, options, help, table cells and
headers, chart titles, axes, legends and annotations -- read from the elements' protobufs."""
from __future__ import annotations

import json
import re

#: Proto fields that hold no words a reader sees (ids, keys, icons, styles, raw data).
_SKIP = {"id", "key", "form_id", "icon", "url", "css_class", "type", "theme", "format", "data",
         "arrow_data", "styler", "spec", "args", "script_hash", "page_script_hash", "url_path",
         "page_name", "anchor", "color", "selection_mode", "default", "widget_id", "width",
         "height", "column_config", "editing_mode", "row_height", "label_visibility",
         "query_string", "tag", "dom_id", "config", "json", "code", "language", "font",
         "unsafe_allow_javascript", "icon_position"}


def _proto_strings(message, out: list) -> None:
    for field, value in message.ListFields():
        if field.name in _SKIP:
            continue
        values = value if isinstance(value, (list, tuple)) or (
            hasattr(value, "__len__") and not isinstance(value, (str, bytes))
            and not hasattr(value, "ListFields")) else [value]
        for item in values:
            if isinstance(item, str):
                if item.strip():
                    out.append(item)
            elif hasattr(item, "ListFields"):
                _proto_strings(item, out)


def _figure_strings(spec: str, out: list) -> None:
    """A plotly figure's visible words: titles, axis titles, annotations, trace names, texts."""
    try:
        fig = json.loads(spec)
    except ValueError:
        return

    def walk(node, key="", named=True):
        if isinstance(node, dict):
            for k, v in node.items():
                # an annotation's or a shape's name is an id, never drawn (a trace's is: legend)
                walk(v, k, named and key not in ("annotations", "shapes"))
        elif isinstance(node, list):
            for v in node:
                walk(v, key, named)
        elif isinstance(node, str) and (key in ("text", "title", "hovertext", "hovertemplate",
                                                "ticktext", "legendgrouptitle")
                                        or key == "name" and named):
            out.append(node)
    walk(fig)


def _frame_strings(frame, out: list) -> None:
    out += [str(c) for c in frame.columns] + [str(n) for n in frame.index.names if n]
    out += [v for v in frame.index.tolist() if isinstance(v, str)]
    for column in frame.columns:
        out += [v for v in frame[column].tolist() if isinstance(v, str)]


def _visible(text: str) -> str | None:
    """The text a reader sees: Markdown escapes undone, a word a chart wrapped at its
    capitals ("Representative<br>Dataset") joined again, HTML tags as spaces; None for a page's
    style or script element."""
    if text.lstrip().startswith(("<style", "<script")):
        return None
    if text.lstrip().startswith(("{", "[")):     # a component's JSON data (the graph), not words
        try:
            json.loads(text)
            return None
        except ValueError:
            pass
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r":(?:red|green|orange|gray|grey|blue|violet|rainbow|primary)\[", "[", text)
    text = re.sub(r"(?<=[a-z])<br>(?=[A-Z])", "", text)
    return re.sub(r"<[^>]+>", " ", text)


def page_texts(at) -> list[str]:
    """The texts of every element on the page (main area and sidebar), as a reader sees them."""
    return [t for t in map(_visible, _raw_texts(at)) if t]


def _raw_texts(at) -> list[str]:
    out: list[str] = []

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        kind = type(node).__name__
        if kind in ("Dataframe", "Table"):
            try:
                _frame_strings(node.value, out)
            except Exception:  # noqa: BLE001 - a frame AppTest cannot decode: its proto then
                pass
        elif proto is not None and hasattr(proto, "ListFields"):
            if proto.DESCRIPTOR.name == "PlotlyChart" or hasattr(proto, "plotly_chart"):
                spec = getattr(getattr(proto, "plotly_chart", proto), "spec", "")
                _figure_strings(spec, out)
            _proto_strings(proto, out)
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)          # noqa: SLF001 - AppTest has no public walk over every element
    return out

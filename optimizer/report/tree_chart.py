"""The guide's decision tree as a plotly diagram with the user's path highlighted.

Drawn with plotly shapes and annotations only, so it renders offline in the browser with the
plotly.js that Streamlit ships. Questions sit on one row (the "spine", left to right), leaves
above or below the question they answer; a leaf shared by two questions (the guide's dynamic
range box) is drawn once, between them, with both arrows. Colours follow the guide's image:
questions green, techniques orange; boxes off the user's path are faded.
"""
from __future__ import annotations

import re
import textwrap

import plotly.graph_objects as go

from optimizer.report import style

QUESTION_COLOR = "#2e7d32"
LEAF_COLOR = "#e8710a"
MUTED_LINE = "rgba(128,128,128,0.55)"
BOX_W, BOX_H = 0.76, 0.62      # in grid units (a column is 1.0 wide, a row 1.0 high)
ROW_GAP = 1.05


def _layout(tree) -> dict:
    """Grid positions {node id: (x, y)}: spine of questions at y=0, leaves at y=-1 or +1."""
    children = {}
    for edge in tree.edges:
        children.setdefault(edge.source, []).append(edge)
    pos, node = {}, tree.node(tree.root)
    x = 0
    while node is not None and node.id not in pos:
        pos[node.id] = (float(x), 0.0)
        nxt = [tree.node(e.target) for e in children.get(node.id, ())
               if not tree.node(e.target).is_leaf]
        node = nxt[0] if nxt else None
        x += 1
    for question in [n for n in tree.nodes if not n.is_leaf and n.id not in pos]:
        pos[question.id] = (float(x), 0.0)   # a question off the spine (not in the guide's tree)
        x += 1
    parents = {}
    for edge in tree.edges:
        if tree.node(edge.target).is_leaf:
            parents.setdefault(edge.target, []).append(edge)
    taken = []
    for leaf in tree.leaves:
        edges = parents.get(leaf.id, [])
        lx = sum(pos[e.source][0] for e in edges) / max(len(edges), 1)
        siblings = [e for e in children.get(edges[0].source, ())
                    if tree.node(e.target).is_leaf] if len(edges) == 1 else []
        # a question with two leaves sends Y up and N down, like a fork
        rows = [1.0, -1.0] if len(siblings) == 2 and edges[0].label == "Y" else [-1.0, 1.0]
        for row in rows:
            if all(abs(tx - lx) > 0.9 or ty != row for tx, ty in taken):
                break
        pos[leaf.id] = (lx, row * ROW_GAP)
        taken.append((lx, row))
    return pos


#: The width (pixels) a tree is drawn at on a 1280-pixel screen (the page's main column),
#: and the pixels one character of a box's text takes: a box's lines are cut to fit.
TREE_WIDTH_PX, CHAR_PX = 880.0, 7.0


def _wrap(text: str, width: int) -> str:
    """Lines of at most ``width`` characters, broken between words only; a longer word
    ("RepresentativeDataset?") breaks where its capitals start, never inside a word."""
    words = []
    for word in text.split():
        words += re.findall(r"[A-Z]?[^A-Z]+|[A-Z]+(?![^A-Z])", word) if len(word) > width \
            else [word]
    return "<br>".join(textwrap.wrap(" ".join(words), width=width, break_long_words=False,
                                     break_on_hyphens=True)) or text


def _rounded(x0, y0, x1, y1, r=0.08) -> str:
    ry = r * 0.9
    return (f"M {x0 + r},{y0} L {x1 - r},{y0} Q {x1},{y0} {x1},{y0 + ry} "
            f"L {x1},{y1 - ry} Q {x1},{y1} {x1 - r},{y1} L {x0 + r},{y1} "
            f"Q {x0},{y1} {x0},{y1 - ry} L {x0},{y0 + ry} Q {x0},{y0} {x0 + r},{y0} Z")


def _border_point(center, toward):
    """Where the segment from a box's centre toward a point leaves the box."""
    (cx, cy), (tx, ty) = center, toward
    dx, dy = tx - cx, ty - cy
    scale = min((BOX_W / 2) / abs(dx) if dx else float("inf"),
                (BOX_H / 2) / abs(dy) if dy else float("inf"))
    return cx + dx * scale, cy + dy * scale


def tree_figure(tree, path=(), leaf: str | None = None, title: str | None = None,
                height: int = 440):
    """Draw ``tree`` (a ``DecisionTree``) with the path taken highlighted.

    ``path`` is a sequence of (question id, "Y"/"N") pairs (or objects with ``node`` and
    ``answer``), ``leaf`` the leaf id reached. Every question, leaf and Y/N edge is drawn;
    the ones on the path are solid and bold, the rest faded.
    """
    steps = []
    for step in path:
        node, answer = (step.node, step.answer) if hasattr(step, "node") else step
        if node in {n.id for n in tree.nodes} and not tree.node(node).is_leaf:
            steps.append((node, str(answer)))
    on_path_edges = set()
    on_path_nodes = {n for n, _ in steps}
    for node, answer in steps:
        try:
            on_path_edges.add((node, tree.next(node, answer).id))
        except KeyError:
            continue
    if leaf:
        on_path_nodes.add(leaf)
    pos = _layout(tree)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    unit_px = TREE_WIDTH_PX / (max(xs) - min(xs) + 1.1)
    chars = max(10, int((BOX_W * unit_px - 8) / CHAR_PX))
    fig = go.Figure()
    for edge in tree.edges:
        active = (edge.source, edge.target) in on_path_edges
        color = (QUESTION_COLOR if not tree.node(edge.target).is_leaf else LEAF_COLOR) \
            if active else MUTED_LINE
        start = _border_point(pos[edge.source], pos[edge.target])
        end = _border_point(pos[edge.target], pos[edge.source])
        fig.add_annotation(x=end[0], y=end[1], ax=start[0], ay=start[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2,
                           arrowsize=1.1, arrowwidth=4 if active else 1.6, arrowcolor=color,
                           text="")
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        if abs(end[1] - start[1]) < 1e-6:
            my += 0.13          # beside the arrow, so the arrow stays visible
        elif abs(end[0] - start[0]) < 1e-6:
            mx += 0.09
        fig.add_annotation(x=mx, y=my, text=f"<b>{edge.label}</b>", showarrow=False,
                           font={"size": style.FONT_SIZE - 1,
                                 "color": "white" if active else None},
                           bgcolor=color if active else "rgba(128,128,128,0.18)",
                           bordercolor=color, borderpad=3, borderwidth=1)
    for node in tree.nodes:
        x, y = pos[node.id]
        active = node.id in on_path_nodes
        base = LEAF_COLOR if node.is_leaf else QUESTION_COLOR
        fig.add_shape(type="path",
                      path=_rounded(x - BOX_W / 2, y - BOX_H / 2, x + BOX_W / 2, y + BOX_H / 2),
                      fillcolor=base if active else "rgba(128,128,128,0.08)",
                      line={"color": base, "width": 3 if active else 1.2},
                      opacity=1.0 if active else 0.75, layer="below")
        label = node.text if not node.is_leaf else f"{node.text}"
        text = _wrap(label, chars)
        fig.add_annotation(x=x, y=y, text=f"<b>{text}</b>" if active else text,
                           showarrow=False,
                           font={"size": style.FONT_SIZE - 3,
                                 "color": "white" if active else None},
                           hovertext=(f"{node.id}: {node.text}"
                                      + (f" → {node.technique.value}" if node.technique else "")))
    fig.update_xaxes(visible=False, range=[min(xs) - 0.55, max(xs) + 0.55], fixedrange=True)
    fig.update_yaxes(visible=False, range=[min(ys) - 0.45, max(ys) + 0.45], fixedrange=True)
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
        title={"text": title, "font": {"size": style.TITLE_SIZE}} if title else None,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", showlegend=False,
        font={"size": style.FONT_SIZE}, dragmode=False,
    )
    return fig

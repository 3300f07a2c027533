"""Text labels on their points: the one label placement every scatter chart uses.

A label names only the points whose markers are at its anchor: points are grouped by their
distance in *pixels* on the figure's real axes (log or linear, with the figure's ranges), and
a point joins a group only when it is within ``NEAR_PX`` of that group's anchor, so one
label lists exactly the markers drawn on top of each other. Each label then takes a free
place beside its anchor (a plotly ``textposition``), else a place further out with a leader
line to its anchor (an arrow annotation), else it is named in the legend; it never joins a
label of another point. A place is free when its text box overlaps no other label, no other
marker and no reserved box (the "best" arrow, the budget line's words) and stays inside the
plot.

Pixels are those of a plot ``PLOT_WIDTH_PX`` wide: a chart on a 390-pixel phone (half the
width of a 1280-pixel screen is wider). A wider chart moves points apart while its text keeps
its size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: Width in pixels of the plot area labels are placed for: a phone's (the narrowest drawn).
PLOT_WIDTH_PX = 250.0
#: Markers closer than this (in pixels) are drawn on top of each other: one label names them.
NEAR_PX = 4.0
#: Label text: pixels per character and per line at the charts' label font (12 px).
CHAR_PX, LINE_PX = 7.0, 15.0
#: Longest line of a shared label before it breaks after a comma.
WRAP_CHARS = 18
#: ``textposition`` places, in the order they are tried.
SIDES = ("top right", "top left", "bottom right", "bottom left", "middle right", "middle left",
         "top center", "bottom center")
#: Leader-line places: distances (pixels) and directions (degrees, 0 = right, 90 = up).
LEADER_DISTANCES = (38.0, 60.0, 85.0)
LEADER_ANGLES = (60, 120, -60, -120, 0, 180, 90, -90, 30, 150, -30, -150)
#: A label beside its point must be this much nearer (pixels) to it than to any other point.
CLEARER_PX = 4.0


@dataclass(frozen=True)
class Axis:
    """One axis of a plot: its data range (data units, even on a log axis) and its length in
    pixels. ``position`` maps a value to pixels from the axis start."""

    low: float
    high: float
    pixels: float
    log: bool = False

    def __post_init__(self):
        if self.log and (self.low <= 0 or self.high <= 0):
            raise ValueError(f"a log axis needs a positive range, not {self.low}..{self.high}")
        if not self.high > self.low:
            raise ValueError(f"an axis range must grow: {self.low}..{self.high}")

    def position(self, value: float) -> float:
        if self.log:
            low, high = math.log10(self.low), math.log10(self.high)
            return (math.log10(value) - low) / (high - low) * self.pixels
        return (value - self.low) / (self.high - self.low) * self.pixels


@dataclass(frozen=True)
class Plot:
    """The plot area labels are placed in: an x axis and a y axis (pixels grow up)."""

    x: Axis
    y: Axis

    def pixels(self, x: float, y: float) -> tuple[float, float]:
        return self.x.position(x), self.y.position(y)


def plot_of(x_range, y_range, height: float, margin_top: float, margin_bottom: float,
            log_x: bool = False) -> Plot:
    """The ``Plot`` of a figure ``height`` pixels tall with these margins and data ranges."""
    return Plot(Axis(float(x_range[0]), float(x_range[1]), PLOT_WIDTH_PX, log_x),
                Axis(float(y_range[0]), float(y_range[1]), height - margin_top - margin_bottom))


@dataclass(frozen=True)
class Label:
    """One label: the point it is anchored on, every point it names (anchor first), its text,
    and where it went: ``side`` (a ``textposition``), else ``offset`` (pixels right and up from
    the anchor to the text, drawn with a leader line), else neither (named in the legend)."""

    anchor: int
    members: tuple[int, ...]
    text: str
    side: str | None = None
    offset: tuple[float, float] | None = None

    @property
    def in_legend(self) -> bool:
        return self.side is None and self.offset is None


Box = tuple[float, float, float, float]       # x0, x1, y0, y1 in pixels (y grows up)


def wrap(text: str, most: int = WRAP_CHARS) -> str:
    """A shared label longer than ``most`` characters broken after its commas (``<br>``)."""
    lines, line = [], ""
    for part in text.split(", "):
        if line and len(line) + 2 + len(part) > most:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    return "<br>".join(lines + [line])


def text_size(text: str) -> tuple[float, float]:
    """(width, height) in pixels of a label's text (``<br>`` breaks lines)."""
    lines = text.split("<br>")
    return 4.0 + CHAR_PX * max(len(line) for line in lines), LINE_PX * len(lines)


def marker_box(x: float, y: float, size: float) -> Box:
    half = size / 2.0
    return x - half, x + half, y - half, y + half


def text_box(x: float, y: float, text: str, side: str, marker_size: float) -> Box:
    """The box plotly draws ``text`` in at ``textposition`` ``side`` of a marker at (x, y):
    it keeps the marker's radius (plotly: size / 2 / 0.8 + 1) between them."""
    width, height = text_size(text)
    gap = marker_size / 2.0 / 0.8 + 1.0
    vertical, horizontal = side.split()
    x0 = {"right": x + gap, "left": x - gap - width, "center": x - width / 2.0}[horizontal]
    y0 = {"top": y + gap - 2.0, "bottom": y - gap - height + 2.0,
          "middle": y - height / 2.0}[vertical]
    return x0, x0 + width, y0, y0 + height


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _inside(box: Box, plot: Plot) -> bool:
    return (box[0] >= -4.0 and box[1] <= plot.x.pixels + 4.0 and box[2] >= 0.0
            and box[3] <= plot.y.pixels)


def box_distance(box: Box, point: tuple[float, float]) -> float:
    """Pixels from ``point`` to the nearest edge of ``box`` (0 inside it)."""
    dx = max(box[0] - point[0], 0.0, point[0] - box[1])
    dy = max(box[2] - point[1], 0.0, point[1] - box[3])
    return math.hypot(dx, dy)


def _segment_hits(start, end, box: Box) -> bool:
    """Whether the straight line from ``start`` to ``end`` passes through ``box`` (sampled)."""
    steps = 24
    return any(box[0] <= start[0] + (end[0] - start[0]) * k / steps <= box[1]
               and box[2] <= start[1] + (end[1] - start[1]) * k / steps <= box[3]
               for k in range(steps + 1))


def group_points(pixels: list[tuple[float, float]], order: list[int],
                 near: float = NEAR_PX) -> list[list[int]]:
    """Groups of points drawn on top of each other, each led by its anchor (the first point
    of ``order`` in it); every member lies within ``near`` pixels of its anchor."""
    groups: list[list[int]] = []
    for i in order:
        group = next((g for g in groups if math.dist(pixels[g[0]], pixels[i]) <= near), None)
        if group is None:
            groups.append([i])
        else:
            group.append(i)
    return groups


class _Room:
    """Where a label may go: inside the plot, off every taken box and every other marker."""

    def __init__(self, plot: Plot, pixels, markers, taken: list[Box], group):
        self.plot, self.pixels, self.taken = plot, pixels, taken
        self.others = [k for k in range(len(pixels)) if k not in group]
        self.other_markers = [markers[k] for k in self.others]
        self.blocked = taken + self.other_markers

    def free(self, box: Box) -> bool:
        return _inside(box, self.plot) and not any(overlaps(box, b) for b in self.blocked)

    def beside(self, box: Box, anchor: int) -> bool:
        """Free, and nearer its own point than any other (else it reads as theirs)."""
        own = box_distance(box, self.pixels[anchor])
        return self.free(box) and all(box_distance(box, self.pixels[k]) > own + CLEARER_PX
                                      for k in self.others)

    def leader(self, anchor: int, text: str):
        """A free box for ``text`` further out, whose leader line to the anchor crosses no
        other marker: (offset, box), or (None, None)."""
        at = self.pixels[anchor]
        width, height = text_size(text)
        for distance in LEADER_DISTANCES:
            for angle in LEADER_ANGLES:
                dx = distance * math.cos(math.radians(angle))
                dy = distance * math.sin(math.radians(angle))
                box = (at[0] + dx - width / 2, at[0] + dx + width / 2,
                       at[1] + dy - height / 2, at[1] + dy + height / 2)
                tail = (at[0] + dx, at[1] + dy)
                if self.free(box) and not any(_segment_hits(at, tail, marker)
                                              for marker in self.other_markers):
                    return (dx, dy), box
        return None, None


def place_labels(xs, ys, names, plot: Plot, marker_sizes=15.0, first=(),
                 reserved: tuple[Box, ...] = ()) -> list[Label]:
    """Labels for the points (``xs[i]``, ``ys[i]``) named ``names[i]``, in data units of
    ``plot``'s axes. ``marker_sizes`` is one size for all or one per point; names in
    ``first`` (the baseline, the best trial) are placed before the others, then left to right;
    ``reserved`` boxes (pixels, as ``Plot`` measures them) are kept free of labels.
    Returns one ``Label`` per group of points, in placing order."""
    count = len(names)
    sizes = ([float(marker_sizes)] * count if isinstance(marker_sizes, (int, float))
             else [float(s) for s in marker_sizes])
    pixels = [plot.pixels(float(x), float(y)) for x, y in zip(xs, ys)]
    order = sorted(range(count), key=lambda i: (names[i] not in first, pixels[i][0], i))
    markers = [marker_box(*pixels[i], sizes[i]) for i in range(count)]
    taken: list[Box] = list(reserved)
    labels = []
    for group in group_points(pixels, order):
        anchor = group[0]
        text = wrap(", ".join(names[k] for k in group))
        room = _Room(plot, pixels, markers, taken, group)
        boxes = {side: text_box(*pixels[anchor], text, side, sizes[anchor]) for side in SIDES}
        side = next((s for s in SIDES if room.beside(boxes[s], anchor)), None)
        offset, box = (None, boxes[side]) if side else room.leader(anchor, text)
        if box is not None:
            taken.append(box)
        labels.append(Label(anchor, tuple(group), text, side=side, offset=offset))
    return labels


def add_leader_labels(fig, labels: list[Label], xs, ys, log_x: bool = False,
                      font_size: int = 12) -> None:
    """Draw the labels that took a place with a leader line, as arrow annotations pointing at
    their anchors (plotly puts annotations on a log axis at log10 of the value)."""
    for label in labels:
        if label.offset is None:
            continue
        x, y = float(xs[label.anchor]), float(ys[label.anchor])
        fig.add_annotation(x=math.log10(x) if log_x else x, y=y, text=label.text,
                           showarrow=True, arrowhead=0, arrowwidth=1,
                           arrowcolor="rgba(128,128,128,0.9)", standoff=7,
                           ax=label.offset[0], ay=-label.offset[1],
                           font={"size": font_size}, name="label")


def label_texts(labels: list[Label], count: int) -> tuple[list[str], list[str]]:
    """(text, textposition) per point for the labels placed beside their anchors; every other
    point gets no text."""
    texts, sides = [""] * count, ["top right"] * count
    for label in labels:
        if label.side is not None:
            texts[label.anchor], sides[label.anchor] = label.text, label.side
    return texts, sides


def legend_points(labels: list[Label]) -> set[int]:
    """The points whose names found no place beside them: the chart shows them in a legend."""
    return {k for label in labels if label.in_legend for k in label.members}

"""Where a sequence diagram's pieces go: lifelines across, time down, idle gaps compressed.

A :class:`Panel` is one request's messages (:mod:`harness.analysis.sequence`) with what the
report adds: the evidence the confirmed verdicts cite (numbered, highlighted), the faults
the harness injected (from the ledger, when there is one: shown, never evidence) and the
first divergence from the baseline. :func:`layout` places panels drawn side by side on one
scale: the same lifelines at the same x, the same offset from each request's start at the
same y. Time runs down linearly within a burst, each message at least :data:`ROW_PX` below
the previous one; a gap longer than :data:`IDLE_NS` becomes a band :data:`IDLE_PX` high
labelled with its length. At most :data:`MAX_MESSAGES` are drawn per panel: every step and
every cited message first, then the others in time order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from harness.analysis import FaultInterval, clock
from harness.analysis.sequence import WORKER, Kind, Message, Outcome, Sequence, lifeline_rank
from harness.report import i18n

GUTTER_PX = 70  # the time axis, left of the first lifeline
LANE_PX = 86  # between two lifelines
HEAD_PX = 40  # the lifelines' name boxes
ROW_PX = 21  # between two messages
PX_PER_MS = 0.25  # within a burst
IDLE_NS = 250_000_000  # a gap longer than this is compressed
IDLE_PX = 30
MAX_MESSAGES = 120
CHAR_PX = 7.2  # a 13 px character, about
LABEL_CHARS = 44

NAMES = {"sqs": "SQS", "redis": "Redis", "s3": "S3", "dynamodb": "DynamoDB"}
NAMES |= {"cloudwatch": "CloudWatch"}
SERVICES = frozenset(NAMES)


@dataclass(frozen=True)
class Cited:
    """An evidence item a confirmed verdict cites: its number in the answer, the codes
    citing it, and where it is (drawn as a note when no message carries its ref)."""

    number: int
    codes: tuple[str, ...]
    ts_ns: int = 0
    component: str = ""
    text: str = ""


@dataclass
class Panel:
    """One request to draw; ``mark_ns`` is the first divergence (0: none)."""

    sequence: Sequence
    caption: str
    faults: list[FaultInterval] = field(default_factory=list)
    cited: dict[str, Cited] = field(default_factory=dict)
    prefix: str = ""  # the id prefix of cited arrows ("v1"); "" gives no ids
    mark_ns: int = 0
    mark_title: str = ""


@dataclass
class Arrow:
    """A message placed: from ``x1`` to ``x2`` (equal for a note) at ``y``."""

    x1: float
    x2: float
    y: float
    message: Message
    text: str
    title: str
    css: str
    ids: list[str] = field(default_factory=list)
    badges: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def label_x(self) -> float:
        return (self.x1 + self.x2) / 2


@dataclass(frozen=True)
class Band:
    x: float
    y: float
    width: float
    height: float
    text: str
    css: str


@dataclass
class Picture:
    """A panel laid out; every coordinate in px of the SVG's own viewBox."""

    caption: str
    width: float
    height: float
    lifelines: list[tuple[str, str, float]]  # name, shown name, x
    arrows: list[Arrow]
    bands: list[Band]
    ticks: list[tuple[float, str]]
    marks: list[tuple[float, str, str]]  # y, text, title
    omitted: int

    @property
    def bottom(self) -> float:
        return self.height - HEAD_PX + 6


class Axis:
    """Offsets (ns from each panel's start) to y, for several panels at once."""

    def __init__(self, columns: list[list[int]]) -> None:
        merged = sorted({t for column in columns for t in column})
        self.knots: list[tuple[int, float]] = []
        self.idle: list[tuple[float, float, float]] = []  # y, height, seconds
        per_time: dict[int, int] = {}
        for column in columns:
            counts: dict[int, int] = {}
            for t in column:
                counts[t] = counts.get(t, 0) + 1
            for t, n in counts.items():
                per_time[t] = max(per_time.get(t, 0), n)
        y = float(HEAD_PX + ROW_PX)
        for n, t in enumerate(merged):
            if n:
                gap = t - merged[n - 1]
                if gap > IDLE_NS:
                    self.idle.append((y - ROW_PX / 2, IDLE_PX, gap / 1e9))
                    y += IDLE_PX
                else:
                    y += gap / 1e6 * PX_PER_MS
            self.knots.append((t, y))
            y += ROW_PX * per_time[t]
        self.end = y
        self._times = [t for t, _ in self.knots]

    def rows(self, column: list[int]) -> list[float]:
        """The y of each message of a column (its offsets, in time order)."""
        out, used = [], dict[int, int]()
        for t in column:
            index = bisect.bisect_left(self._times, t)
            out.append(self.knots[index][1] + ROW_PX * used.get(t, 0))
            used[t] = used.get(t, 0) + 1
        return out

    def at(self, offset: int) -> float:
        """The y of any offset: between two knots, in proportion (an idle band included)."""
        if not self.knots or offset <= self.knots[0][0]:
            return self.knots[0][1] - ROW_PX / 2 if self.knots else HEAD_PX
        index = bisect.bisect_right(self._times, offset)
        if index >= len(self.knots):
            return self.end - ROW_PX / 2
        (t0, y0), (t1, y1) = self.knots[index - 1], self.knots[index]
        return y0 + (y1 - y0) * (offset - t0) / max(t1 - t0, 1)


def drawn(panel: Panel) -> tuple[list[Message], int]:
    """The messages drawn, and how many are not: steps and cited ones first, then the
    others, in time order; a cited evidence item no message carries is a note on its
    component's lifeline."""
    messages = panel.sequence.messages + _uncarried(panel)
    messages.sort(key=lambda m: m.placed_ns)
    if len(messages) <= MAX_MESSAGES:
        return messages, 0
    first = [n for n, m in enumerate(messages) if m.step or _cited(panel, m)]
    others = [n for n, m in enumerate(messages) if not (m.step or _cited(panel, m))]
    keep = set(first[:MAX_MESSAGES]) | set(others[: max(MAX_MESSAGES - len(first), 0)])
    return [m for n, m in enumerate(messages) if n in keep], len(messages) - len(keep)


def _uncarried(panel: Panel) -> list[Message]:
    carried = {r for m in panel.sequence.messages for r in m.refs}
    names = panel.sequence.lifelines
    out = []
    for ref, cited in panel.cited.items():
        side = cited.component.split("->")[0]
        where = next((n for n in names if n == side), None) or next(
            (n for n in names if n.startswith(side)), None
        )
        if ref in carried or where is None or not cited.ts_ns:
            continue
        note = Message(cited.ts_ns, where, where, Kind.NOTE, cited.text, refs=[ref])
        note.placed_ns = cited.ts_ns
        out.append(note)
    return out


def _cited(panel: Panel, m: Message) -> bool:
    return any(ref in panel.cited for ref in m.refs)


def layout(panels: list[Panel], lang: str) -> list[Picture]:
    """The pictures of panels shown side by side, on one scale."""
    chosen = [drawn(p) for p in panels]
    shown = [messages for messages, _ in chosen]
    slots = [_slots(p) for p in panels]
    order = sorted({s for found in slots for s in found.values()}, key=lifeline_rank)
    x_of = {slot: GUTTER_PX + LANE_PX * (n + 0.5) for n, slot in enumerate(order)}
    width = GUTTER_PX + LANE_PX * max(len(order), 1) + 8
    columns = [
        [m.placed_ns - p.sequence.start_ns for m in ms] for p, ms in zip(panels, shown, strict=True)
    ]
    axis = Axis(columns)
    height = axis.end + HEAD_PX + 8
    anyone = {slot: name for found in reversed(slots) for name, slot in found.items()}
    pictures = []
    for panel, (messages, omitted), column, mine in zip(
        panels, chosen, columns, slots, strict=True
    ):
        xs = {name: x_of[slot] for name, slot in mine.items()}
        named = {slot: name for name, slot in mine.items()}
        lifelines = []
        for slot in order:
            name = named.get(slot, anyone[slot])
            lifelines.append((name, NAMES.get(name, name), x_of[slot]))
        arrows = [
            _arrow(panel, m, y, xs, width, lang)
            for m, y in zip(messages, axis.rows(column), strict=True)
        ]
        bands = [_idle(y, h, s, width, lang) for y, h, s in axis.idle]
        bands += _faults(panel, axis, xs, lang)
        marks = []
        if panel.mark_ns:
            y = _above(panel.mark_ns, messages, axis.rows(column), axis.end)
            marks.append((y, i18n.t(lang, "seq.divergence"), panel.mark_title))
        ticks = _ticks(messages, axis.rows(column), panel.sequence.start_ns, lang)
        pictures.append(
            Picture(panel.caption, width, height, lifelines, arrows, bands, ticks, marks, omitted)
        )
    return pictures


def _above(ts_ns: int, messages: list[Message], ys: list[float], end: float) -> float:
    """Just above the first message at or after ``ts_ns``."""
    for m, y in zip(messages, ys, strict=True):
        if m.placed_ns >= ts_ns:
            return y - ROW_PX / 2 - 1
    return end - ROW_PX


def _slots(panel: Panel) -> dict[str, str]:
    """Each lifeline's column: its own name, but the n-th worker of each panel shares one."""
    names = panel.sequence.lifelines
    workers = [n for n in names if n.startswith(WORKER)]
    return {n: f"{WORKER}#{workers.index(n)}" if n in workers else n for n in names}


def _idle(y: float, h: float, seconds: float, width: float, lang: str) -> Band:
    return Band(0, y, width, h, i18n.t(lang, "seq.idle", seconds=f"{seconds:.2f}"), "idle")


def text_of(m: Message, lang: str) -> str:
    """A message's words: the translated phrase around its label, a mark for its outcome."""
    text = i18n.t(lang, f"seq.{m.word}", label=m.label).strip() if m.word else m.label
    mark = {Outcome.ERROR: "✕ ", Outcome.UNKNOWN: "? "}.get(m.outcome, "")
    return f"{mark}{text}".strip()


def _arrow(
    panel: Panel, m: Message, y: float, xs: dict[str, float], width: float, lang: str
) -> Arrow:
    x1, x2 = xs[m.source], xs[m.target]
    cited = [panel.cited[r] for r in m.refs if r in panel.cited]
    text = text_of(m, lang)
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - 1] + "…"
    when = clock(m.ts_ns) if m.ts_ns else i18n.t(lang, "seq.time_unknown")
    title = f"{when} {m.source} → {m.target}: {text_of(m, lang)}"
    if m.detail and m.detail not in title:
        title += f"\n{m.detail}"
    codes = sorted({c for item in cited for c in item.codes})
    if codes:
        title += f"\n{', '.join(codes)}"
    css = f"msg {m.kind} {m.outcome}" + (" cited" if cited else "")
    ids = [f"{panel.prefix}-seq-{r}" for r in m.refs if r in panel.cited] if panel.prefix else []
    badges = sorted({c.number for c in cited})
    return Arrow(x1, x2, y, m, text, title, css, ids, badges, codes)


def _faults(panel: Panel, axis: Axis, xs: dict[str, float], lang: str) -> list[Band]:
    """The injected faults on the lifelines they hit: the path's two ends."""
    start, end = panel.sequence.start_ns, panel.sequence.end_ns
    out = []
    for fault in panel.faults:
        stop = fault.end_ns or end
        if stop < start or fault.start_ns > end:
            continue
        y1, y2 = axis.at(fault.start_ns - start), axis.at(stop - start)
        source, _, dependency = fault.proxy.partition("->")
        hit = [
            n
            for n in xs
            if n in (source, dependency) or (source == WORKER and n.startswith(WORKER))
        ]
        text = i18n.t(lang, "seq.injected", kind=fault.kind, fault=fault.fault)
        for n, name in enumerate(hit):
            out.append(Band(xs[name] - 11, y1, 22, max(y2 - y1, 4), text if not n else "", "fault"))
    return out


def _ticks(
    messages: list[Message], ys: list[float], start: int, lang: str
) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    last_y, last_t = -99.0, -1
    for m, y in zip(messages, ys, strict=True):
        offset = m.placed_ns - start
        if y - last_y < 15 or offset == last_t:
            continue
        if not m.ts_ns:
            text = i18n.t(lang, "seq.time_unknown")
        elif not out:
            text = clock(m.ts_ns)
        else:
            text = f"+{offset / 1e6:.1f} ms" if offset < 10**9 else f"+{offset / 1e9:.3f} s"
        out.append((y, text))
        last_y, last_t = y, offset
    return out

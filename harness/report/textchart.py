"""A sequence diagram as monospace text, for the Markdown report.

One column per lifeline, one row per message (the same messages the SVG draws, in time
order), its time on the left and its words on the right::

    time          client    controller SQS       worker-2  Redis
    20:58:14.673  |-------->|          |         |         |         POST /run
    +68.4 ms      |         |------------------------------>|        SUBSCRIBE result
    +294.2 ms     |         |<------------------------------|        message FAILED [9]

``-->`` a call or a pushed message, ``- ->`` an answer, ``. .>`` an outcome the evidence
does not show, ``==x`` a call that failed; ``*`` a note on one lifeline (``X`` a failure,
``?`` unknown); ``#`` a lifeline while a fault the harness injected acted on it;
``[n]`` the evidence item numbered ``n`` in the cause analysis; ``~`` idle time, compressed.
"""

from __future__ import annotations

from harness.analysis import clock
from harness.analysis.sequence import Kind, Message, Outcome
from harness.report import i18n
from harness.report.sequence import IDLE_NS, NAMES, Panel, drawn, text_of

COLUMN = 11
TIME = 14


def text_chart(panel: Panel, lang: str) -> str:
    messages, omitted = drawn(panel)
    names = list(panel.sequence.lifelines)
    for m in messages:  # a cited note may add none, but keep every end on a column
        names += [n for n in (m.source, m.target) if n not in names]
    at = {name: TIME + COLUMN * n for n, name in enumerate(names)}
    width = TIME + COLUMN * len(names)
    lines = [
        (
            "time".ljust(TIME) + "".join(NAMES.get(n, n)[: COLUMN - 1].ljust(COLUMN) for n in names)
        ).rstrip()
    ]
    start, last = panel.sequence.start_ns, None
    for m in messages:
        if last is not None and m.placed_ns - last > IDLE_NS:
            gap = i18n.t(lang, "seq.idle", seconds=f"{(m.placed_ns - last) / 1e9:.2f}")
            lines.append(_row("", _lifelines(at, width, panel, last, "~"), f"~ {gap}"))
        last = m.placed_ns
        cells = _lifelines(at, width, panel, m.placed_ns, "|")
        _draw(cells, at[m.source], at[m.target], m)
        when = _when(m, start, lang)
        lines.append(_row(when, cells, _words(panel, m, lang)))
    if omitted:
        lines.append(i18n.t(lang, "seq.omitted", n=omitted))
    return "\n".join(lines)


def _row(when: str, cells: list[str], words: str) -> str:
    return (when.ljust(TIME)[:TIME] + "".join(cells[TIME:]) + " " + words).rstrip()


def _when(m: Message, start: int, lang: str) -> str:
    if not m.ts_ns:
        return i18n.t(lang, "seq.time_unknown")[: TIME - 1]
    if m.placed_ns == start:
        return clock(m.ts_ns)
    offset = m.placed_ns - start
    return f"+{offset / 1e6:.1f} ms" if offset < 10**9 else f"+{offset / 1e9:.3f} s"


def _lifelines(at: dict[str, int], width: int, panel: Panel, ts: int, mark: str) -> list[str]:
    cells = [" "] * (width + 1)
    hit = _faulted(panel, ts)
    for name, x in at.items():
        cells[x] = "#" if mark == "|" and any(name.startswith(h) for h in hit) else mark
    return cells


def _faulted(panel: Panel, ts: int) -> set[str]:
    found: set[str] = set()
    for fault in panel.faults:
        if fault.start_ns <= ts <= (fault.end_ns or panel.sequence.end_ns):
            source, _, dependency = fault.proxy.partition("->")
            found |= {source, dependency}
    return found


def _draw(cells: list[str], a: int, b: int, m: Message) -> None:
    if m.kind is Kind.NOTE:
        cells[a] = {Outcome.ERROR: "X", Outcome.UNKNOWN: "?"}.get(m.outcome, "*")
        return
    lo, hi = sorted((a, b))
    fill = "-"
    if m.outcome is Outcome.UNKNOWN:
        fill = ". "
    elif m.outcome is Outcome.ERROR and m.kind is Kind.CALL and m.word:
        fill = "="
    elif m.kind is Kind.ANSWER:
        fill = "- "
    for n in range(lo + 1, hi):
        cells[n] = fill[(n - lo - 1) % len(fill)]
    lost = fill == "="
    if b > a:
        cells[b - 1] = "x" if lost else ">"
    else:
        cells[b + 1] = "x" if lost else "<"


def _words(panel: Panel, m: Message, lang: str) -> str:
    numbers = sorted({panel.cited[r].number for r in m.refs if r in panel.cited})
    cited = "".join(f" [{n}]" for n in numbers)
    return f"{text_of(m, lang)}{cited}"

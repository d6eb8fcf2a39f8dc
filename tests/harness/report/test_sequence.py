"""Laying out and drawing sequence diagrams (harness/report/sequence.py, svg.py, textchart.py)."""

from __future__ import annotations

import itertools
import re

from harness.analysis import FaultInterval
from harness.analysis.sequence import Kind, Message, Outcome, Sequence
from harness.report.sequence import (
    IDLE_PX,
    MAX_MESSAGES,
    ROW_PX,
    Cited,
    Panel,
    drawn,
    layout,
)
from harness.report.svg import render_svg
from harness.report.textchart import text_chart
from tests.harness.analysis.builder import ns


def message(ms, source, target, label, kind=Kind.CALL, outcome=Outcome.OK, refs=(), **kw):
    m = Message(ns(ms), source, target, kind, label, outcome, list(refs), **kw)
    m.placed_ns = m.ts_ns
    return m


def chart(*messages):
    return Sequence("r", sorted(messages, key=lambda m: m.placed_ns))


def test_time_runs_down_with_idle_gaps_compressed_and_labelled():
    sequence = chart(
        message(0, "client", "controller", "POST /run"),
        message(1, "controller", "redis", "SUBSCRIBE result", key="subscribe#0"),
        message(60, "controller", "sqs", "SendMessage"),
        message(2000, "controller", "client", "HTTP 202 TIMEOUT", Kind.ANSWER),
    )
    [picture] = layout([Panel(sequence, "run")], "en")
    ys = [a.y for a in picture.arrows]
    assert ys == sorted(ys)
    assert all(b - a >= ROW_PX for a, b in itertools.pairwise(ys))
    assert ys[2] - ys[1] > ys[1] - ys[0]  # 59 ms take more room than 1 ms
    [idle] = [b for b in picture.bands if b.css == "idle"]
    assert idle.text == "1.94 s idle"
    assert idle.height == IDLE_PX
    assert ys[3] - ys[2] < 2 * ROW_PX + IDLE_PX  # 1.94 s drawn smaller than 60 ms would be
    assert picture.ticks[0][1] == "07:40:19.000"
    assert [t for _, t in picture.ticks[1:]] == ["+1.0 ms", "+60.0 ms", "+2.000 s"]


def test_two_runs_side_by_side_share_one_scale_and_their_workers_one_column():
    mine = chart(
        message(0, "client", "controller", "POST /run"),
        message(20, "sqs", "worker-2", "task", Kind.PUSH),
        message(400, "worker-2", "redis", "PUBLISH result"),
    )
    theirs = chart(
        message(0, "client", "controller", "POST /run"),
        message(20, "sqs", "worker-1", "task", Kind.PUSH),
        message(30, "worker-1", "redis", "PUBLISH result"),
    )
    a, b = layout(
        [Panel(mine, "mine", mark_ns=ns(400)), Panel(theirs, "theirs", mark_ns=ns(30))], "en"
    )
    assert [x for _, _, x in a.lifelines] == [x for _, _, x in b.lifelines]
    assert [n for n, _, _ in a.lifelines] == ["client", "controller", "sqs", "worker-2", "redis"]
    assert [n for n, _, _ in b.lifelines] == ["client", "controller", "sqs", "worker-1", "redis"]
    assert [x.y for x in a.arrows[:2]] == [x.y for x in b.arrows[:2]]  # same offsets, same y
    assert a.arrows[2].y > b.arrows[2].y
    assert a.height == b.height
    assert a.marks[0][0] < a.arrows[2].y
    assert b.marks[0][0] < b.arrows[2].y
    assert a.marks[0][1] == "◆ first divergence"


def test_steps_and_cited_evidence_are_drawn_first_under_the_budget():
    noise = [message(1 + n * 0.01, "worker-1", "redis", f"GET k{n}") for n in range(400)]
    step = message(2, "worker-1", "redis", "PUBLISH result", key="publish#0")
    cited = message(3.5, "worker-1", "redis", "GET k250", refs=["wire-7"])
    panel = Panel(chart(*noise, step, cited), "run", cited={"wire-7": Cited(3, ("CODE",))})
    messages, omitted = drawn(panel)
    assert len(messages) == MAX_MESSAGES
    assert omitted == 402 - MAX_MESSAGES
    assert step in messages
    assert cited in messages
    assert [m.placed_ns for m in messages] == sorted(m.placed_ns for m in messages)


def test_cited_evidence_no_message_carries_becomes_a_note_on_its_lifeline():
    sequence = chart(message(0, "client", "controller", "POST /run"))
    far = Cited(1, ("WORKER_CRASHED",), ns(5), "controller", "[ERROR] gave up")
    [picture] = layout([Panel(sequence, "run", cited={"log-4": far}, prefix="v1")], "en")
    note = picture.arrows[-1]
    assert note.message.kind is Kind.NOTE
    assert (note.message.source, note.text, note.ids) == (
        "controller",
        "[ERROR] gave up",
        ["v1-seq-log-4"],
    )


def test_injected_faults_shade_the_ends_of_their_path_only_when_a_ledger_has_them():
    sequence = chart(
        message(0, "client", "controller", "POST /run"),
        message(5, "controller", "redis", "SUBSCRIBE result", outcome=Outcome.ERROR, word="failed"),
        message(1000, "controller", "client", "HTTP 503", Kind.ANSWER, outcome=Outcome.ERROR),
    )
    fault = FaultInterval(
        "controller->redis", "sg-drops-syn", "connect_timeout", "both", ns(-50), None
    )
    [shaded] = layout([Panel(sequence, "run", faults=[fault])], "en")
    bands = [b for b in shaded.bands if b.css == "fault"]
    xs = {n: x for n, _, x in shaded.lifelines}
    assert sorted(b.x + b.width / 2 for b in bands) == sorted([xs["controller"], xs["redis"]])
    assert [b.text for b in bands if b.text] == ["injected: connect_timeout (sg-drops-syn)"]
    [plain] = layout([Panel(sequence, "run")], "en")
    assert not [b for b in plain.bands if b.css == "fault"]


def test_the_svg_marks_outcomes_without_colour_and_links_cited_arrows_both_ways():
    sequence = chart(
        message(0, "client", "controller", "POST /run", refs=["call-0-start"]),
        message(5, "controller", "redis", "SUBSCRIBE result", outcome=Outcome.ERROR, word="failed"),
        message(
            6, "redis", "controller", "", Kind.ANSWER, outcome=Outcome.UNKNOWN, word="no_answer"
        ),
        message(
            7,
            "controller",
            "controller",
            "FAILED",
            Kind.NOTE,
            Outcome.ERROR,
            ["log-3"],
            word="ignored",
        ),
    )
    cited = {"log-3": Cited(2, ("FAILED_NOT_PROPAGATED",))}
    [picture] = layout([Panel(sequence, "run: <x>", cited=cited, prefix="v1")], "en")
    svg = render_svg(picture, "v1-r0-0", "v1")
    assert svg.startswith('<svg class="seq"')
    assert "run: &lt;x&gt;" in svg
    assert "✕ SUBSCRIBE result — failed" in svg
    assert 'marker-end="url(#v1-r0-0-lost)"' in svg
    assert "? — no answer" in svg
    linked = '<g id="v1-seq-log-3"><a href="#v1-verdict-FAILED_NOT_PROPAGATED">'
    assert f'{linked}<g class="msg note error cited">' in svg
    assert re.search(r'<g class="badge">.*?>2</text>', svg)
    assert not re.search(r"(?:href|src)=\"(?!#)", svg)


def test_the_text_chart_has_a_column_per_lifeline_and_a_row_per_message():
    sequence = chart(
        message(0, "client", "controller", "POST /run"),
        message(1, "controller", "redis", "SUBSCRIBE result"),
        message(3, "redis", "controller", "subscribed", Kind.ANSWER),
        message(
            900, "controller", "controller", "2.0 s", Kind.NOTE, Outcome.ERROR, word="deadline_hit"
        ),
        message(
            901,
            "redis",
            "controller",
            "message",
            Kind.PUSH,
            Outcome.UNKNOWN,
            word="delivery_unknown",
        ),
    )
    text = text_chart(Panel(sequence, "run", cited={"x": Cited(1, ())}), "en")
    header, *rows = text.splitlines()
    assert header.split() == ["time", "client", "controller", "Redis"]
    assert rows[0].startswith("07:40:19.000")
    assert "|--------->|" in rows[0]  # client -> controller
    assert rows[2].rstrip().endswith("subscribed")
    assert "< -" in rows[2]
    assert rows[3].lstrip().startswith("~")
    assert "0.90 s idle" in rows[3]
    assert rows[4].split()[2:4] == ["|", "X"]  # a failure on the controller's lifeline
    assert rows[4].endswith("✕ deadline hit 2.0 s")
    assert "|< . . . . |" in rows[5]

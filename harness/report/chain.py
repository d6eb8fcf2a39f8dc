"""The answer a variant opens with: its root causes, what followed from each, the fixes.

From the confirmed verdicts' roles (:mod:`harness.analysis.causality`): each root cause,
then the consequences whose ``caused_by`` names it. Every evidence item the chain cites is
numbered once per variant (:class:`~harness.report.sequence.Cited`), the same number on
the item in the answer and on the arrow of the sequence diagram it refers to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.report.sequence import Cited

if TYPE_CHECKING:
    from harness.report.context import VerdictView


@dataclass
class Link:
    """One confirmed verdict in the chain, with its numbered evidence."""

    view: VerdictView
    evidence: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # number, item
    consequences: list[Link] = field(default_factory=list)
    repeated: bool = False  # a consequence already shown under an earlier cause


def causal_chain(confirmed: list[VerdictView]) -> tuple[list[Link], dict[str, Cited]]:
    """The chain of ``confirmed`` verdict views (fault codes only), and the citations."""
    causes = [v for v in confirmed if v.role != "consequence"]
    effects = [v for v in confirmed if v.role == "consequence"]
    chain: list[Link] = []
    shown: set[str] = set()
    for cause in causes:
        link = Link(cause)
        for effect in effects:
            if cause.code in effect.caused_by:
                link.consequences.append(Link(effect, repeated=effect.code in shown))
                shown.add(effect.code)
        chain.append(link)
    orphans = [e for e in effects if e.code not in shown]  # causes not confirmed here
    chain += [Link(e) for e in orphans]
    return chain, _number(chain)


def _number(chain: list[Link]) -> dict[str, Cited]:
    numbers: dict[str, int] = {}
    codes: dict[str, list[str]] = {}
    items: dict[str, dict[str, Any]] = {}
    for link in _walk(chain):
        for item in link.view.evidence:
            ref = item["ref"]
            if ref:
                numbers.setdefault(ref, len(numbers) + 1)
                codes.setdefault(ref, []).append(link.view.code)
                items.setdefault(ref, item)
            link.evidence.append((numbers.get(ref, 0), item))
    return {
        ref: Cited(
            n,
            tuple(dict.fromkeys(codes[ref])),
            int(items[ref]["tsNs"]),
            str(items[ref]["component"]),
            str(items[ref]["text"]),
        )
        for ref, n in numbers.items()
    }


def _walk(chain: list[Link]) -> list[Link]:
    out = []
    for link in chain:
        out.append(link)
        out += [c for c in link.consequences if not c.repeated]
    return out

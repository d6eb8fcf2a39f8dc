"""The doctor's report for people (one line per check, its fix below) and for machines.

::

    PASS  redis.ping         2 ms  PONG from 127.0.0.1:6379 (...)
    FAIL  sqs.dead-letter   11 ms  sqs: 1 message(s) in the dead-letter queue ...
          fix: read them without deleting (...)
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from rich.console import Console
from rich.text import Text

from harness.doctor.check import ms
from harness.doctor.result import CheckResult, Report, Status

_STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.SKIP: "yellow"}


def render(report: Report, console: Console) -> None:
    """Print the target, one line per check (and its fix), then the verdict."""
    console.print(Text(_target_line(report.target), style="dim"), soft_wrap=True)
    width = max((len(r.name) for r in report.results), default=0)
    for result in report.results:
        console.print(_line(result, width), soft_wrap=True)
        if result.fix and result.status is not Status.PASS:
            console.print(Text(f"{'':6}fix: {result.fix}"), soft_wrap=True)
    console.print(_verdict(report), soft_wrap=True)


def to_json(report: Report) -> str:
    """The report as JSON: ok, summary, target, and each check with its data."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str)


def _line(result: CheckResult, width: int) -> Text:
    took = ms(result.seconds) if result.status is not Status.SKIP else "-"
    line = Text(f"{str(result.status).upper():<4}", style=_STYLE[result.status])
    line.append(f"  {result.name:<{width}}  {took:>7}  ")
    line.append(result.detail)
    return line


def _verdict(report: Report) -> Text:
    counts = ", ".join(f"{report.count(s)} {word}" for s, word in _WORDS.items())
    if report.ok:
        return Text(f"{len(report.results)} checks: {counts}: healthy", style="bold green")
    return Text(f"{len(report.results)} checks: {counts}: NOT healthy", style="bold red")


_WORDS = {Status.PASS: "passed", Status.FAIL: "failed", Status.SKIP: "skipped"}


def _target_line(target: Mapping[str, object]) -> str:
    endpoints = target.get("endpoints")
    urls = dict(endpoints) if isinstance(endpoints, Mapping) else {}
    distinct = set(urls.values())
    if len(distinct) == 1:
        aws = str(distinct.pop() or "AWS")
    else:
        aws = ", ".join(f"{svc} {url or 'AWS'}" for svc, url in urls.items())
    parts = [
        f"redis {target.get('redisUrl')}",
        f"aws {aws} ({target.get('region')})",
        f"controller {target.get('controllerUrl') or '-'}",
    ]
    if target.get("functionId"):
        parts.append(f"function {target['functionId']}")
    return "doctor: " + "; ".join(parts)

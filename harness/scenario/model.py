"""A failure scenario: what to break, what to run, and what the client should see.

A scenario is declared once (one file per scenario under ``scenarios/``) and runs the same
way under pytest and from ``nanogrid-harness replay NAME``. It has one or more *variants*:
the same workload under different faults or behaviour knobs (the incident replay runs the
memo's three hypotheses and the fixed system as variants).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from harness.faults import Fault

#: The components whose network paths the harness controls.
COMPONENTS = ("controller", "worker")
#: The AWS services a component reaches, each through its own endpoint (and proxy).
AWS_SERVICES = ("s3", "sqs", "dynamodb", "cloudwatch")
#: Every network path behind its own fault proxy: ``<component>-><dependency>``.
PROXIED_PATHS = tuple(
    f"{component}->{dependency}"
    for component in COMPONENTS
    for dependency in ("redis", *AWS_SERVICES)
)
#: The paths a fault can name: each proxied path, and ``<component>->aws`` for all four AWS
#: services of that component at once.
PATHS = (*PROXIED_PATHS, *(f"{c}->aws" for c in COMPONENTS))


def expand(path: str) -> tuple[str, ...]:
    """The proxied paths a fault path stands for (``worker->aws``: its four services)."""
    component, _, dependency = path.partition("->")
    if dependency == "aws":
        return tuple(f"{component}->{service}" for service in AWS_SERVICES)
    return (path,)


@dataclass(frozen=True)
class FaultSpec:
    """A fault on one path. The fault's own schedule counts from the start of the workload."""

    path: str
    fault: Fault

    def __post_init__(self) -> None:
        if self.path not in PATHS:
            raise ValueError(f"unknown path {self.path!r}: choose one of {', '.join(PATHS)}")

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, **self.fault.to_dict()}


@dataclass(frozen=True)
class Workload:
    """What the client does.

    ``artifact`` names a builder in :mod:`harness.artifacts` (``memo_function_zip``, the
    default, is the memo's test function); ``source`` gives a function's code instead.
    ``via`` is ``upload`` (POST /upload) or ``s3`` (the memo's way: straight into S3 plus a
    three-field item).
    ``restart_redis_after`` restarts Redis that many seconds into the run.
    ``await_redelivery_s`` keeps the run open after the answer, at most that long, until the
    wire shows SQS delivering the task a second time and a DeleteMessage answered after it
    (the platform's handling of a redelivered task is part of the run).
    """

    artifact: str = "memo_function_zip"
    source: str | None = None
    via: str = "upload"
    run: bool = True
    memory_mb: int | None = None
    timeout_seconds: int | None = None
    restart_redis_after: float | None = None
    settle_seconds: float = 4.0  # how long to wait for a late result after the answer
    await_redelivery_s: float = 0.0


@dataclass(frozen=True)
class Expect:
    """The client-visible outcome. ``client_status`` is a result status or ``HTTP {code}``."""

    client_status: str
    upload_status: int | None = None
    error_type: str | None = None
    stage: str | None = None
    stdout: str | None = None
    later_status: str | None = None  # what GET /runs/{id} shows once things settle
    min_deliveries: int | None = None  # SQS deliveries of the task (redelivery scenarios)
    upload_reason: str | None = None


@dataclass(frozen=True)
class Variant:
    """One run of the scenario's workload under its own faults and knobs."""

    name: str
    expect: Expect
    verdicts: tuple[str, ...] = ()  # root causes the diagnosis must confirm
    faults: tuple[FaultSpec, ...] = ()
    controller_env: dict[str, str] = field(default_factory=dict)
    worker_env: dict[str, str] = field(default_factory=dict)
    workers: int = 2
    description: str = ""
    #: Close the clients' open connections on the faulted paths first, as a client host
    #: that connects afresh would (a connect timeout only hits new connections).
    fresh_connections: bool = False
    #: Verdicts the diagnosis must confirm as consequences of the expected causes.
    consequences: tuple[str, ...] = ()
    #: A controller command to run this variant against instead of the reference one (a
    #: component with the behaviour under study, e.g. ``examples/legacy-controller/run``);
    #: a controller the harness runs under test (``--controller``) takes its place.
    controller_command: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A scenario of the catalogue; see the module docstring."""

    name: str
    title: str
    hypothesis: str
    workload: Workload
    variants: tuple[Variant, ...]
    incident: str | None = None
    control: str | None = None  # the variant that shows the expected result after the fix

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"scenario {self.name!r} has no variant")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"scenario {self.name!r} repeats a variant name")

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"scenario {self.name!r} has no variant {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "hypothesis": self.hypothesis,
            "incident": self.incident,
            "control": self.control,
            "workload": asdict(self.workload),
            "variants": [variant_dict(v) for v in self.variants],
        }


def variant_dict(variant: Variant) -> dict[str, Any]:
    data = asdict(replace(variant, faults=()))
    data["faults"] = [spec.to_dict() for spec in variant.faults]
    return data


def single(
    name: str,
    title: str,
    hypothesis: str,
    workload: Workload,
    expect: Expect,
    verdicts: tuple[str, ...] = (),
    **variant: Any,
) -> Scenario:
    """A scenario of one variant (named ``main``), the common case."""
    incident = variant.pop("incident", None)
    return Scenario(
        name,
        title,
        hypothesis,
        workload,
        (Variant("main", expect, verdicts, **variant),),
        incident=incident,
    )

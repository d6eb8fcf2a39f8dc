"""``nanogrid-harness doctor``: the incident memo's manual checklist, run from this host.

Given the platform's endpoints (the controller's own settings, from the environment or the
``KEY=value`` lines ``nanogrid-harness up`` prints), each check gives one line: pass, fail
or skip, its time, what it found and, when it did not pass, the fix. It only uses
endpoints, never harness internals, so it works on the embedded stack, on containers and on
any external deployment. It is read-only: the pub/sub channel it uses is private and ends
with the check.

==========================  ==================================================================
check                       passes when
==========================  ==================================================================
``redis.ping``              TCP connect, then PING (refused / connect timeout / DNS named apart)
``redis.pubsub``            SUBSCRIBE + PUBLISH on ``nanogrid-doctor:<uuid>``: 1 receiver, back
``workers.heartbeat``       at least one live worker heartbeat key
``s3.bucket``               the code bucket exists
``dynamodb.table``          the metadata table is ACTIVE, keyed by functionId
``sqs.queue``               the task queue exists (depth: visible / in flight / delayed)
``sqs.dead-letter``         a RedrivePolicy, and its dead-letter queue is empty
``cloudwatch.metrics``      CloudWatch answers
``function.item``           (``--function``) its DynamoDB item, with an s3Key and a runtime
``function.code``           (``--function``) its S3 object: a zip with main.py at its root
``controller.health``       ``GET /health`` answers 200 ok
==========================  ==================================================================

A check whose prerequisite did not pass is skipped; the report is ``ok`` only when every
check passed. ::

    report = run_doctor(DoctorConfig.from_env(os.environ, function_id="test-manual"))
    render(report, Console())
"""

from harness.doctor.check import Check
from harness.doctor.config import DoctorConfig, read_env_file
from harness.doctor.errors import CheckFailed, ConfigError, DoctorError
from harness.doctor.render import render, to_json
from harness.doctor.result import CheckResult, Finding, Report, Status
from harness.doctor.runner import default_checks, run_checks, run_doctor

__all__ = [
    "Check",
    "CheckFailed",
    "CheckResult",
    "ConfigError",
    "DoctorConfig",
    "DoctorError",
    "Finding",
    "Report",
    "Status",
    "default_checks",
    "read_env_file",
    "render",
    "run_checks",
    "run_doctor",
    "to_json",
]

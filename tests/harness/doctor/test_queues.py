"""The task queue and its dead-letter queue, found through the RedrivePolicy."""

from __future__ import annotations

import pytest

from harness.stack import wait_until


def depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


@pytest.fixture
def dead_letter(healthy_stack, aws):
    """One message in the DLQ for the test; the DLQ is empty again after it."""
    sqs, url = aws("sqs"), healthy_stack.provisioned.dlq_url
    sqs.send_message(QueueUrl=url, MessageBody='{"requestId": "poison"}')
    yield url
    sqs.purge_queue(QueueUrl=url)
    assert wait_until(lambda: depth(sqs, url) == 0, timeout=10)


def test_a_message_in_the_dead_letter_queue_fails_its_check(healthy_stack, dead_letter, doctor):
    run = doctor(healthy_stack.exports())
    assert run.exit_code == 1
    assert run.failing() == {"sqs.dead-letter": "fail"}
    check = run.check("sqs.dead-letter")
    assert check["data"]["visible"] == 1
    assert check["data"]["url"] == dead_letter
    assert check["data"]["maxReceiveCount"] == healthy_stack.config.max_receive_count
    assert "1 message(s) in the dead-letter queue nanogrid-tasks-dlq" in check["detail"]
    assert "receive-message" in check["fix"]
    assert "--visibility-timeout 0" in check["fix"]


def test_the_queue_reports_its_depth_and_redrive_policy(healthy_stack, doctor):
    run = doctor(healthy_stack.exports())
    queue, dlq = run.check("sqs.queue"), run.check("sqs.dead-letter")
    assert queue["status"] == dlq["status"] == "pass"
    assert queue["data"]["url"] == healthy_stack.settings.queue_url
    assert queue["data"]["visibilityTimeout"] == str(healthy_stack.config.visibility_timeout)
    assert dlq["data"]["arn"].endswith(":nanogrid-tasks-dlq")
    assert dlq["detail"] == "nanogrid-tasks-dlq: empty; maxReceiveCount 5"


def test_a_queue_without_redrive_policy_fails(healthy_stack, aws, doctor):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="doctor-no-dlq")["QueueUrl"]
    try:
        env = {**healthy_stack.exports(), "NANOGRID_QUEUE_URL": url}
        check = doctor(env).check("sqs.dead-letter")
    finally:
        sqs.delete_queue(QueueUrl=url)
    assert check["status"] == "fail"
    assert "has no RedrivePolicy" in check["detail"]


def test_a_missing_queue_fails_and_skips_the_dead_letter_check(healthy_stack, doctor):
    env = {**healthy_stack.exports(), "NANOGRID_QUEUE_URL": "", "NANOGRID_QUEUE": "doctor-none"}
    run = doctor(env)
    assert run.failing() == {"sqs.queue": "fail", "sqs.dead-letter": "skip"}
    assert "no queue 'doctor-none'" in run.check("sqs.queue")["detail"]

"""A controller as the 2025-12-02 memo's Team B wrote it: independent of ``nanogrid``.

Stdlib ``http.server`` + boto3 + redis-py, configured by the harness's environment contract
(``harness/components.py``). It keeps the memo's defects on purpose, so that
``nanogrid-harness conformance --controller examples/legacy-controller/run`` has something
to find:

* ``POST /upload`` stores whatever it is given (an empty zip too) in S3 and DynamoDB;
* ``POST /run`` sends the task to SQS *before* subscribing to ``result:<requestId>``,
  listens on pub/sub only (never reads the stored result key), and ignores FAILED results,
  answering ``{"status": "TIMEOUT", "message": "Execution timed out"}`` at its deadline.

It logs plain text lines on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import redis


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S", time.localtime()) + f".{int(time.time() * 1000) % 1000:03d}"
    sys.stderr.write(f"{stamp} [INFO] {message}\n")
    sys.stderr.flush()


class Config:
    """What the environment says (read once, at start)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = int(env.get("PORT", "8080"))
        self.bucket = env.get("NANOGRID_BUCKET", "nanogrid-code-bucket")
        self.table = env.get("NANOGRID_TABLE", "nanogrid-functions")
        self.queue_url = env["NANOGRID_QUEUE_URL"]
        self.deadline = float(env.get("NANOGRID_RUN_DEADLINE", "25"))
        self.redis_url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        self.connect_timeout = float(env.get("NANOGRID_REDIS_CONNECT_TIMEOUT", "2"))
        self.region = env.get("AWS_REGION", "ap-northeast-2")


CONFIG = Config(dict(os.environ))
S3 = boto3.client("s3", region_name=CONFIG.region)
DYNAMODB = boto3.client("dynamodb", region_name=CONFIG.region)
SQS = boto3.client("sqs", region_name=CONFIG.region)
REDIS = redis.Redis.from_url(
    CONFIG.redis_url,
    socket_connect_timeout=CONFIG.connect_timeout,
    socket_timeout=CONFIG.connect_timeout,
    decode_responses=True,
)


def upload(fields: dict[str, bytes]) -> tuple[int, dict[str, Any]]:
    data = fields.get("file", b"")
    function_id = fields.get("functionId", b"").decode() or str(uuid.uuid4())
    key = f"functions/{function_id}/v1.zip"
    log(f"upload: functionId={function_id} size={len(data)} bytes s3Key={key}")
    S3.put_object(Bucket=CONFIG.bucket, Key=key, Body=data)
    meta = {
        "functionId": function_id,
        "s3Key": key,
        "runtime": fields.get("runtime", b"python").decode(),
        "version": 1,
        "sizeBytes": len(data),
        "memoryMB": int(fields.get("memoryMB", b"256")),
        "timeoutSeconds": int(fields.get("timeoutSeconds", b"10")),
    }
    item = {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in meta.items()}
    DYNAMODB.put_item(TableName=CONFIG.table, Item=item)
    return 201, meta


def run(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    function_id = str(body.get("functionId", ""))
    request_id = str(uuid.uuid4())
    log(f"/run called: functionId={function_id} requestId={request_id}")
    try:
        REDIS.ping()
    except redis.RedisError as exc:
        log(f"Redis not connected: {exc}")
        return 503, {"requestId": request_id, "error": "Redis unavailable"}
    item = DYNAMODB.get_item(TableName=CONFIG.table, Key={"functionId": {"S": function_id}})
    if "Item" not in item:
        return 404, {"error": f"function {function_id} not found"}
    meta: dict[str, Any] = {k: next(iter(v.values())) for k, v in item["Item"].items()}
    task = {
        "requestId": request_id,
        "functionId": function_id,
        "s3Key": meta["s3Key"],
        "runtime": meta.get("runtime", "python"),
        "memoryMB": int(meta.get("memoryMB", 256)),
        "timeoutSeconds": int(meta.get("timeoutSeconds", 10)),
        "deadline": time.time() + CONFIG.deadline,
        "inputData": body.get("inputData"),
        "bucket": CONFIG.bucket,
    }
    deadline = time.monotonic() + CONFIG.deadline
    SQS.send_message(QueueUrl=CONFIG.queue_url, MessageBody=json.dumps(task))
    log(f"message sent to SQS: requestId={request_id}")
    result = wait_for(request_id, deadline)
    if result is None:
        log(f"Timeout waiting for result: requestId={request_id}")
        return 504, {"requestId": request_id, "status": "TIMEOUT", "message": "Execution timed out"}
    return 200, {k: v for k, v in result.items() if k != "trace"}


def wait_for(request_id: str, deadline: float) -> dict[str, Any] | None:
    """The SUCCESS result published on ``result:<id>`` before ``deadline``, else None."""
    channel = f"result:{request_id}"
    pubsub = REDIS.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    try:
        log(f"Subscribing to channel: {channel}")
        pubsub.subscribe(channel)
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = pubsub.get_message(timeout=min(left, 0.5))
            except redis.RedisError as exc:
                log(f"Redis error while waiting: {exc}")
                time.sleep(min(max(left, 0), 0.1))
                continue
            if message is None:
                continue
            log(f"Received message on channel {channel}")
            result = json.loads(message["data"])
            if result.get("status") == "SUCCESS":  # the memo's defect: FAILED is not handled
                return dict(result)
        return None
    finally:
        pubsub.close()


def parse_form(content_type: str, body: bytes) -> dict[str, bytes]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/health":
            try:
                self.answer(200, {"status": "ok", "redis": REDIS.ping()})
            except redis.RedisError as exc:
                self.answer(503, {"status": "down", "error": str(exc)})
        else:
            self.answer(404, {"error": f"no route GET {self.path}"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            if self.path == "/upload":
                status, answer = upload(parse_form(self.headers.get("Content-Type", ""), body))
            elif self.path == "/run":
                status, answer = run(json.loads(body or b"{}"))
            else:
                status, answer = 404, {"error": f"no route POST {self.path}"}
        except Exception as exc:  # the boundary: every error answers 500 and is logged
            log(f"[ERROR] {self.path}: {type(exc).__name__}: {exc}")
            status, answer = 500, {"error": str(exc)}
        self.answer(status, answer)

    def answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if "requestId" in body:
            self.send_header("X-Request-Id", str(body["requestId"]))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else '?'}")


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", CONFIG.port), Handler)
    log(f"legacy controller listening on 127.0.0.1:{CONFIG.port}")
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

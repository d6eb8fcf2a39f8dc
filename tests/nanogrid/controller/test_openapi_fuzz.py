"""One schemathesis run over the controller's OpenAPI document, in process (ASGI).

Every operation gets generated requests, valid and invalid; every answer must be no server
error, a status the document lists, and a body matching the schema documented for that
status. No worker runs and ``/run`` waits 0.5 s, so runs answer 404, 422 or a 202 TIMEOUT.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness import artifacts
from nanogrid.controller.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_no_server_error_and_answers_match_the_schema(controller) -> None:
    # A fresh app on the module controller's settings; schemathesis runs its lifespan.
    # (Its pytest plugin's lazy fixtures do not run on pytest 9: the Python API does.)
    app = create_app(controller.settings, min_workers=0)
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the document must load completely
        operations.append(result.ok())
    assert {op.label for op in operations} == {
        "POST /upload",
        "POST /run",
        "GET /runs/{request_id}",
        "GET /health",
    }
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case) -> None:
            case.call_and_validate(checks=CHECKS)

        fuzz()


def test_every_route_documents_its_errors(controller) -> None:
    # The fuzz run only checks what the document says: it must say the error shapes.
    document = controller.client.get("/openapi.json").json()
    error_ref = "#/components/schemas/ErrorResponse"
    expected = {
        ("post", "/upload"): {"201", "400", "413", "422", "503"},
        ("post", "/run"): {"200", "202", "404", "422", "503"},
        ("get", "/runs/{request_id}"): {"200", "404", "422", "503"},
        ("get", "/health"): {"200", "503"},
    }
    for (method, path), statuses in expected.items():
        responses = document["paths"][path][method]["responses"]
        assert set(responses) == statuses, (method, path)
        for status in statuses - {"200", "201", "202"} - ({"503"} if path == "/health" else set()):
            body = responses[status]["content"]["application/json"]["schema"]
            assert body == {"$ref": error_ref}, (method, path, status)
    timeout = document["paths"]["/run"]["post"]["responses"]["202"]
    assert timeout["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RunTimeout"
    }


def test_the_answers_of_a_real_run_match_the_schema(controller) -> None:
    # Generated runs name unknown functions (404); this one exists, and with no worker it
    # ends in the documented 202 TIMEOUT, then reads back in flight from /runs/{id}.
    api = schemathesis.openapi.from_dict(controller.client.get("/openapi.json").json())
    files = {"file": ("f.zip", artifacts.memo_function_zip(), "application/zip")}
    upload = controller.client.post("/upload", files=files)
    assert upload.status_code == 201, upload.text
    api["/upload"]["POST"].validate_response(upload)
    run = controller.client.post(
        "/run", json={"functionId": upload.json()["functionId"], "inputData": {}}
    )
    assert run.status_code == 202, run.text
    api["/run"]["POST"].validate_response(run)
    stored = controller.client.get(run.json()["resultUrl"])
    assert stored.json()["stage"] == "QUEUED"
    api["/runs/{request_id}"]["GET"].validate_response(stored)
    health = controller.client.get("/health")
    api["/health"]["GET"].validate_response(health)

"""The OpenAPI models describe the wire formats field for field (they are written twice:
once as the dataclasses the code uses, once as pydantic models for the document)."""

from __future__ import annotations

from dataclasses import fields

from nanogrid.controller import schemas
from nanogrid.controller.runs import timeout_body
from nanogrid.protocol import Result, Task
from nanogrid.registry import FunctionMeta


def test_run_result_documents_every_result_field():
    wire = {f.name for f in fields(Result)} - {"trace"}  # the controller strips the trace
    assert set(schemas.RunResult.model_fields) == wire


def test_function_metadata_documents_every_metadata_field():
    assert set(schemas.FunctionMetadata.model_fields) == {f.name for f in fields(FunctionMeta)}


def test_run_timeout_documents_the_timeout_body():
    task = Task("r", "f", "functions/f/v1.zip", "python", 256, 10, 0.0)
    assert set(schemas.RunTimeout.model_fields) == set(timeout_body(task, "QUEUED", 25.0))

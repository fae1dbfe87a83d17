"""Task contracts as JSON Schema, for producers and consumers in any language.

Each task has a payload schema (what a producer may send: the model's validation
schema) and a result schema (what the worker stores: its serialization schema).
`project schemas --out DIR` writes them with the message envelope document; the
copy committed under `schemas/` is the snapshot that `tests/test_schema_compat.py`
holds every model change against (see `project.schema_compat`).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from project.celery_app import TASK_MODULES
from project.typed import load_all

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_DOCUMENT = "ENVELOPE.md"


def payload_schema(task: Any) -> dict[str, Any]:
    return _stamped(
        task.payload_type.model_json_schema(mode="validation"), task, "payload"
    )


def result_schema(task: Any) -> dict[str, Any] | None:
    if task.result_type is None:
        return None
    schema = task.result_type.model_json_schema(mode="serialization")
    return _stamped(schema, task, "result")


def _stamped(schema: dict[str, Any], task: Any, kind: str) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{task.name}.{kind}.json",
        "x-task": task.name,
        "x-queue": task.spec.queue,
        **schema,
    }


def app_tasks() -> dict[str, Any]:
    """The app's own tasks: those of `TASK_MODULES`, not examples or benchmarks
    that happen to be imported in the same process."""
    return {
        name: task
        for name, task in load_all().items()
        if task.fn.__module__ in TASK_MODULES
    }


def contract_files() -> dict[str, dict[str, Any]]:
    """File name -> JSON document, for every task, plus `index.json`."""
    files: dict[str, dict[str, Any]] = {}
    index: dict[str, Any] = {}
    for name, task in app_tasks().items():
        files[f"{name}.payload.json"] = payload_schema(task)
        result = result_schema(task)
        if result is not None:
            files[f"{name}.result.json"] = result
        index[name] = {
            "queue": task.spec.queue,
            "payload": f"{name}.payload.json",
            "result": f"{name}.result.json" if result is not None else None,
            "time_limits_s": {
                "soft": task.spec.soft_time_limit_s,
                "hard": task.spec.time_limit_s,
            },
        }
    files["index.json"] = {"tasks": index}
    return files


def envelope_document() -> str:
    """The message envelope, as documented for producers without Celery."""
    return resources.files("project").joinpath("envelope.md").read_text("utf-8")


def write_contracts(folder: Path) -> list[Path]:
    """Write every schema and the envelope document into `folder`; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in contract_files().items():
        path = folder / name
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written.append(path)
    envelope = folder / ENVELOPE_DOCUMENT
    envelope.write_text(envelope_document())
    written.append(envelope)
    return written


def read_snapshot(folder: Path) -> dict[str, dict[str, Any]]:
    """The committed schemas: file name -> JSON document."""
    return {
        path.name: json.loads(path.read_text())
        for path in sorted(folder.glob("*.json"))
    }

"""The committed schemas are a contract: model changes must not break it.

Run `project schemas --out schemas` and commit the folder after a compatible
change (an optional field added, a limit loosened); an incompatible one fails the
first test below with the field and the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, Field, create_model

from project.cli import main
from project.schema_compat import Side, narrowings, snapshot_problems
from project.schemas import contract_files, read_snapshot
from project.tasks.email import EmailJob, EmailResult

SNAPSHOT = Path(__file__).resolve().parents[1] / "schemas"


def test_the_models_keep_the_committed_contracts() -> None:
    problems = snapshot_problems(read_snapshot(SNAPSHOT), contract_files())

    assert not problems, "task contracts broken:\n  " + "\n  ".join(problems)


def test_cli_writes_valid_schemas_and_the_envelope(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(main, ["schemas", "--out", str(tmp_path / "out")])

    assert outcome.exit_code == 0, outcome.output
    folder = tmp_path / "out"
    index = json.loads((folder / "index.json").read_text())
    assert set(index["tasks"]) >= {"email.send", "accounts.handle_event"}
    for name in index["tasks"]:
        schema = json.loads((folder / f"{name}.payload.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
    assert "LPUSH <queue>" in (folder / "ENVELOPE.md").read_text()


# Variants of email.send's payload, as a later commit might change it.


class WithOptionalField(EmailJob):
    campaign: str | None = None


class WithLooserLimit(EmailJob):
    user_id: str = Field(min_length=1, max_length=500)


class WithTighterLimit(EmailJob):
    user_id: str = Field(min_length=1, max_length=50)


class WithRequiredName(EmailJob):
    name: str = Field(max_length=200)


class WithFewerTemplates(EmailJob):
    template: Literal["welcome"]  # type: ignore[assignment]


class WithNumericUserId(EmailJob):
    user_id: int  # type: ignore[assignment]


WithoutName = create_model(
    "WithoutName",
    __config__=ConfigDict(extra="forbid"),
    **{
        name: (field.annotation, field)
        for name, field in EmailJob.model_fields.items()
        if name != "name"
    },  # type: ignore[call-overload]
)


def payload_problems(model: type[BaseModel]) -> list[str]:
    name = "email.send.payload.json"
    snapshot = read_snapshot(SNAPSHOT)[name]
    return snapshot_problems({name: snapshot}, {name: model.model_json_schema()})


@pytest.mark.parametrize("model", [EmailJob, WithOptionalField, WithLooserLimit])
def test_compatible_payload_changes_pass(model: type[BaseModel]) -> None:
    assert payload_problems(model) == []


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            WithTighterLimit,
            "user_id: maxLength is 50 in the model, 200 in the snapshot",
        ),
        (WithRequiredName, "name: required by the model, optional in the snapshot"),
        (
            WithFewerTemplates,
            "template: the model no longer accepts ['reset-password'",
        ),
        (WithNumericUserId, "user_id: the snapshot accepts string, the model only"),
        (
            WithoutName,
            "name: accepted by the snapshot, but the model has no such field",
        ),
    ],
)
def test_breaking_payload_changes_name_the_field_and_why(
    model: type[BaseModel], expected: str
) -> None:
    problems = payload_problems(model)

    assert any(f"email.send: {expected}" in problem for problem in problems), problems


ResultWithoutSentAt = create_model(
    "ResultWithoutSentAt",
    **{
        name: (field.annotation, field)
        for name, field in EmailResult.model_fields.items()
        if name != "sent_at"
    },  # type: ignore[call-overload]
)


def test_a_result_must_keep_what_consumers_rely_on() -> None:
    name = "email.send.result.json"
    snapshot = {name: read_snapshot(SNAPSHOT)[name]}
    current = {name: ResultWithoutSentAt.model_json_schema(mode="serialization")}

    problems = snapshot_problems(snapshot, current)

    assert problems == [
        "email.send: sent_at: required by the snapshot, optional in the model"
    ]


class SignupOnly(BaseModel):
    type: Literal["signup"]
    user_id: str = Field(min_length=1)
    email: str
    name: str | None = None


def test_dropping_a_union_variant_is_breaking() -> None:
    old = read_snapshot(SNAPSHOT)["accounts.handle_event.payload.json"]
    new = SignupOnly.model_json_schema()

    reasons = narrowings(Side(old, "the snapshot"), Side(new, "the model"))

    assert "type: the model no longer accepts ['password-reset-requested']" in reasons


def test_a_removed_task_is_reported() -> None:
    snapshot: dict[str, Any] = read_snapshot(SNAPSHOT)
    current = {k: v for k, v in contract_files().items() if not k.startswith("email.")}

    problems = snapshot_problems(snapshot, current)

    assert any(
        p.startswith("email.send: email.send.payload.json is in") for p in problems
    )

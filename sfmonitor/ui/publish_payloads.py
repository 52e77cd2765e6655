"""What "Publish…" works with besides widgets: a JSON payload checked against the form, the
history of payloads sent (per event, most recent first, kept by the caller), and Salesforce's
answer said for the status bar and for a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from sfmonitor.discovery import EventForm, FieldSpec, PublishError, PublishResult, PushResult
from sfmonitor.discovery.forms import NUMBER_TYPES

HISTORY_SIZE = 20


def entry_of(payload: Mapping[str, Any] | str) -> str:
    """A payload as a history entry: a platform event's as compact JSON, a push's as is."""
    if isinstance(payload, str):
        return payload
    return orjson.dumps(dict(payload)).decode()


def remember(history: Sequence[str], entry: str, size: int = HISTORY_SIZE) -> list[str]:
    """``entry`` first, then the others without it, at most ``size`` in all."""
    return [entry, *(h for h in history if h != entry)][:size]


def pretty(payload: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(payload), option=orjson.OPT_INDENT_2).decode()


def value_problem(spec: FieldSpec, value: Any) -> str | None:
    """Why a JSON value does not fit ``spec`` (None when it does, or is null)."""
    if value is None:
        return None
    if spec.type in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{spec.label}: a number, not {orjson.dumps(value).decode()}"
        text = repr(value)
    elif spec.type == "boolean":
        if not isinstance(value, bool):
            return f"{spec.label}: true or false, not {orjson.dumps(value).decode()}"
        return None
    elif not isinstance(value, str):
        return f"{spec.label}: text, not {orjson.dumps(value).decode()}"
    else:
        text = value
    try:
        spec.coerce(text)
    except ValueError as exc:
        return str(exc)
    return None


def parse_json(form: EventForm, text: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The object in ``text`` and every problem with it: not JSON, not an object, a field
    the event lacks, a required one missing, a value of the wrong type."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return None, [f"Not JSON: {exc}"]
    if not isinstance(data, dict):
        return None, ['The payload is a JSON object: {"Field__c": value, …}']
    problems = form.check(data)
    for name, value in data.items():
        spec = form.field(name)
        if spec is not None:
            problem = value_problem(spec, value)
            if problem:
                problems.append(problem)
    return data, problems


def without_nulls(data: Mapping[str, Any]) -> dict[str, Any]:
    """null leaves a field out (Salesforce applies its default), as an empty form field."""
    return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True)
class PublishOutcome:
    """``summary`` fits the status bar; ``detail`` is for a message box."""

    ok: bool
    summary: str
    detail: str


def publish_outcome(
    answer: PublishResult | PushResult | BaseException, target: str
) -> PublishOutcome:
    """Salesforce's answer to a publish on ``target`` (or the error it raised), in words."""
    if isinstance(answer, PublishResult):
        return _published(answer, target)
    if isinstance(answer, PushResult):
        if answer.fanout_count < 0:
            reach = "sent to every subscriber"
        elif answer.fanout_count == 0:
            reach = "no subscriber is listening"
        else:
            n = answer.fanout_count
            reach = f"sent to {n:,} subscriber{'s' if n != 1 else ''}"
        return PublishOutcome(
            True, f"Pushed to {target}: {reach}", f"Channel id {answer.channel_id}; {reach}."
        )
    if isinstance(answer, PublishError):
        fields = f" (fields: {', '.join(answer.fields)})" if answer.fields else ""
        words = f"{answer.code}: {answer.message}{fields}"
        return PublishOutcome(False, f"Publish to {target} refused: {words}", words)
    return PublishOutcome(False, f"Publish to {target} failed: {answer}", str(answer))


def _published(result: PublishResult, target: str) -> PublishOutcome:
    if not result.success:
        said = (
            "; ".join(
                f"{e.get('statusCode', '')}: {e.get('message', '')}".strip(": ")
                for e in result.errors
            )
            or "Salesforce gave no reason"
        )
        return PublishOutcome(False, f"Publish to {target} failed: {said}", said)
    if result.event_uuid:
        return PublishOutcome(
            True,
            f"Published to {target}: EventUuid {result.event_uuid}",
            "Salesforce queued the event for publishing (OPERATION_ENQUEUED).\n"
            f"EventUuid: {result.event_uuid}",
        )
    return PublishOutcome(
        True, f"Published to {target}", f"Salesforce accepted the event (id {result.id})."
    )

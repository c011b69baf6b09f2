"""Use-case answers as HTTP responses: the typed body written once (no second validation), the status
code the use case chose, and `Idempotent-Replayed: true` on a replayed answer."""

from __future__ import annotations

import json

from fastapi import Response
from pydantic import BaseModel

from server.runtime import Answer

JSON = "application/json"


def reply(answer: Answer) -> Response:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    if answer.status_code == 204 or answer.body is None:
        if answer.status_code == 204:
            return Response(status_code=204, headers=headers)
        return Response(b"null", status_code=answer.status_code, media_type=JSON, headers=headers)
    return Response(model_json(answer.body), status_code=answer.status_code, media_type=JSON, headers=headers)


def model_json(body: BaseModel | dict[str, object] | list[object]) -> bytes:
    if isinstance(body, BaseModel):
        return body.model_dump_json().encode("utf-8")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def typed(body: BaseModel) -> Response:
    """A read's answer (200)."""
    return Response(model_json(body), media_type=JSON)

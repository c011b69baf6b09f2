"""Every error the API returns is `{"detail": sentence}`; bad input is never a 500.

Logs name the error type and the route, never the request body (it may hold an ID number)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hallq.api_models import ErrorAnswer
from server.api.deps import BadHeader
from server.auth import Forbidden, Unauthorized
from server.engine.states import EngineError
from server.login_throttle import TooManyAttempts
from server.pii import InvalidIdCard
from server.runtime import HallStandby, HallUnknown, StoreUnavailable

log = logging.getLogger(__name__)

_ERROR_MEANINGS = {
    401: "no token, or a token or password that does not verify",
    403: "the caller may not do this",
    404: "no such hall, window, service, ticket or case",
    408: "the request body stopped arriving; send it again",
    409: "the state does not allow it (closed, quota, already done); the sentence says why",
    413: "the request body is too large",
    415: "an uploaded file is not JPEG, PNG or PDF",
    422: "the request is malformed (body, path, query or header); the sentence names the field",
    429: "too many attempts; wait the seconds in Retry-After",
    503: "the hall is held by another dispatcher or the database is away; retry after Retry-After",
}
# Every route may answer these, always as {"detail": sentence} (ErrorAnswer); set once on the app,
# they also replace FastAPI's own 422 schema (a list of errors), which is not what this API sends.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorAnswer, "description": meaning} for status, meaning in _ERROR_MEANINGS.items()
}


def _detail(status: int, text: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": text}, status_code=status, headers=headers)


def _where(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_sentence(exc: RequestValidationError) -> str:
    """A readable summary of what is wrong, without echoing the submitted values."""
    problems = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return "请求正文不是有效的 JSON。 The request body is not valid JSON."
        loc = tuple(error.get("loc", ()))
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{_where(loc)}: {msg}")
    return "请求内容有误 Invalid request: " + "; ".join(problems[:8])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EngineError)
    async def _engine(_: Request, exc: EngineError) -> JSONResponse:
        return _detail(getattr(exc, "http_status", 409), str(exc))

    @app.exception_handler(HallUnknown)
    async def _hall(_: Request, exc: HallUnknown) -> JSONResponse:
        return _detail(404, str(exc))

    @app.exception_handler(HallStandby)
    async def _standby(_: Request, exc: HallStandby) -> JSONResponse:
        return _detail(503, str(exc), {"Retry-After": "2"})

    @app.exception_handler(StoreUnavailable)
    async def _store(_: Request, exc: StoreUnavailable) -> JSONResponse:
        return _detail(503, str(exc), {"Retry-After": "1"})

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        return _detail(401, str(exc), {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return _detail(403, str(exc))

    @app.exception_handler(TooManyAttempts)
    async def _too_many(_: Request, exc: TooManyAttempts) -> JSONResponse:
        return _detail(429, str(exc), {"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(InvalidIdCard)
    async def _idcard(_: Request, exc: InvalidIdCard) -> JSONResponse:
        return _detail(422, f"身份证信息有误：{exc}")

    @app.exception_handler(BadHeader)
    async def _header(_: Request, exc: BadHeader) -> JSONResponse:
        return _detail(422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _detail(422, validation_sentence(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
        return _detail(500, "服务器内部错误，操作可能未完成，请重试或联系管理员。 Internal error; please retry.")

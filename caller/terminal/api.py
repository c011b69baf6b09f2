"""The window terminal's HTTP client for the dispatcher (DESIGN.md section 6).

Every call either returns the parsed answer or raises: `ApiError` with the dispatcher's own
`{"detail"}` sentence (a clerk can act on it), or `DispatcherDown` when the dispatcher cannot be
reached at all, so the presenter can show a banner and retry with the same Idempotency-Key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

TIMEOUT_S = 5.0


class ApiError(Exception):
    """The dispatcher answered with an error; `detail` is its sentence for the clerk."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class DispatcherDown(ApiError):
    """The dispatcher could not be reached or failed inside (5xx): worth retrying."""


class NotLoggedIn(ApiError):
    """The clerk's session ended (401): log in again."""


@dataclass(frozen=True)
class Login:
    access_token: str
    role: str
    window: str | None
    display_name: str


class TerminalApi:
    """Talks to one hall's dispatcher for one window. Thread-safe enough for one worker at a time."""

    def __init__(
        self,
        server: str,
        hall: str,
        window: str,
        device_token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.hall = hall
        self.window = window
        self.device_token = device_token
        self.access_token: str | None = None
        self._client = httpx.Client(base_url=server.rstrip("/") + "/api/v1", timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._client.close()

    # --- identity -------------------------------------------------------------------------
    def login(self, username: str, password: str) -> Login:
        body = {"username": username, "password": password, "window": self.window}
        data = self._request("POST", "/auth/login", json=body, auth=False)
        login = Login(
            access_token=str(data["access_token"]),
            role=str(data.get("role", "clerk")),
            window=data.get("window"),
            display_name=str(data.get("display_name") or username),
        )
        self.access_token = login.access_token
        return login

    def logout(self) -> None:
        """End the login at the dispatcher (it closes the window); forget the token either way."""
        try:
            if self.access_token:
                self._request("POST", "/auth/logout")
        finally:
            self.access_token = None

    # --- reads ----------------------------------------------------------------------------
    def hall_info(self) -> dict[str, Any]:
        return self._request("GET", f"/halls/{self._hall}")

    def window_info(self) -> dict[str, Any]:
        return self._request("GET", f"{self._window_path}")

    # --- window actions -------------------------------------------------------------------
    def call_next(self, idempotency_key: str) -> dict[str, Any] | None:
        """The called ticket, or None when nobody is waiting (204)."""
        data = self._request("POST", f"{self._window_path}/call-next", key=idempotency_key)
        return (data.get("ticket") or data) if data else None

    def action(self, name: str, body: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
        """recall, no-show, finish, park, call-back, pause, resume, transfer, call, quick-serve."""
        return self._request("POST", f"{self._window_path}/{name}", json=body or {}, key=key)

    def evaluate(self, ticket_id: str, score: int, key: str | None = None) -> dict[str, Any]:
        path = f"/halls/{self._hall}/tickets/{quote(str(ticket_id), safe='')}/evaluation"
        return self._request("POST", path, json={"score": score}, key=key, device=True)

    # --- plumbing -------------------------------------------------------------------------
    @property
    def _hall(self) -> str:
        return quote(self.hall, safe="")

    @property
    def _window_path(self) -> str:
        return f"/halls/{self._hall}/windows/{quote(self.window, safe='')}"

    def _headers(self, auth: bool, key: str | None, device: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        token = self.device_token if device else (self.access_token or self.device_token)
        if device and not token:
            token = self.access_token
        if auth and token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def _request(
        self,
        method: str,
        path: str,
        json: dict[str, Any] | None = None,
        key: str | None = None,
        auth: bool = True,
        device: bool = False,
    ) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, json=json, headers=self._headers(auth, key, device))
        except httpx.TimeoutException:
            raise DispatcherDown("调度服务器无响应（超时）") from None
        except httpx.HTTPError as exc:
            raise DispatcherDown(f"无法连接调度服务器（{type(exc).__name__}）") from None
        if response.status_code == 204:
            return {}
        if response.status_code >= 400:
            raise _error_for(response)
        try:
            data = response.json()
        except ValueError:
            raise DispatcherDown(f"调度服务器的回答无法解析（HTTP {response.status_code}）") from None
        return data if isinstance(data, dict) else {"items": data}


def _error_for(response: httpx.Response) -> ApiError:
    detail = _detail_sentence(response)
    status = response.status_code
    if status == 401:
        return NotLoggedIn(detail or "登录已失效，请重新登录", status)
    if status >= 500 or status in (502, 503, 504):
        return DispatcherDown(detail or f"调度服务器内部错误（HTTP {status}）", status)
    return ApiError(detail or f"操作失败（HTTP {status}）", status)


def _detail_sentence(response: httpx.Response) -> str:
    """FastAPI gives {"detail": "sentence"} or, for 422, {"detail": [{"msg": ...}, ...]}."""
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        messages = [str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail]
        return "；".join(messages)
    return ""

"""The window terminal's calls to the dispatcher (DESIGN.md section 6), on the shared client
(hallq/client.py); every answer parsed into its hallq.api_models model.

Every call either returns the answer or raises: `DispatcherRefused` with the dispatcher's own
`{"detail"}` sentence (a clerk can act on it; 401: the login ended), or `DispatcherUnreachable` when
the dispatcher cannot be reached or fails inside, so the presenter can show a banner and retry with
the same Idempotency-Key. The client itself does not retry: the presenter shows each retry.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from hallq.api_models import (
    Body,
    CalledAnswer,
    HallInfo,
    LoginAnswer,
    LoginBody,
    TicketAnswer,
    TicketAtWindow,
    WindowAnswer,
)
from hallq.client import DispatcherError, DispatcherHttp, DispatcherRefused, DispatcherUnreachable
from hallq.evaluation_models import RatingBody, RatingOptions

TIMEOUT_S = 5.0
# window actions answering the ticket now called there (200 {ticket}, or 204); the others answer the window
CALLING_ACTIONS = frozenset({"call-back", "call", "quick-serve"})

__all__ = [
    "CALLING_ACTIONS",
    "DispatcherError",
    "DispatcherRefused",
    "DispatcherUnreachable",
    "TerminalApi",
]


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
        self._http = DispatcherHttp(server, timeout=timeout_s, attempts=1, transport=transport)

    def close(self) -> None:
        self._http.close()

    # --- identity -------------------------------------------------------------------------
    def login(self, username: str, password: str) -> LoginAnswer:
        body = LoginBody(username=username, password=password, window=self.window)
        login = self._http.call("POST", "/auth/login", LoginAnswer, body=body)
        self.access_token = login.access_token
        return login

    def logout(self) -> None:
        """End the login at the dispatcher (it closes the window); forget the token either way."""
        try:
            if self.access_token:
                self._http.send("POST", "/auth/logout", headers=self._auth())
        finally:
            self.access_token = None

    # --- reads ----------------------------------------------------------------------------
    def hall_info(self) -> HallInfo:
        return self._http.call("GET", f"/halls/{self._hall}", HallInfo, headers=self._auth())

    def window_info(self) -> WindowAnswer:
        return self._http.call("GET", self._window_path, WindowAnswer, headers=self._auth())

    # --- window actions -------------------------------------------------------------------
    def call_next(self, idempotency_key: str) -> TicketAtWindow | None:
        """The called ticket, or None when nobody is waiting (204)."""
        path = f"{self._window_path}/call-next"
        called = self._http.call_or_none("POST", path, CalledAnswer, headers=self._auth(), key=idempotency_key)
        return called.ticket if called else None

    def action(
        self, name: str, body: Body | None = None, key: str | None = None
    ) -> WindowAnswer | TicketAtWindow | None:
        """recall, no-show, finish, park, pause, resume, transfer → the window's state;
        call-back, call, quick-serve → the ticket now called (None: nobody was called)."""
        path = f"{self._window_path}/{name}"
        if name in CALLING_ACTIONS:
            called = self._http.call_or_none("POST", path, CalledAnswer, body=body, headers=self._auth(), key=key)
            return called.ticket if called else None
        return self._http.call("POST", path, WindowAnswer, body=body, headers=self._auth(), key=key)

    def rating_options(self) -> RatingOptions:
        """The five levels with the hall's reasons (public: no token needed)."""
        return self._http.call("GET", f"/halls/{self._hall}/evaluations/options", RatingOptions)

    def evaluate(self, ticket_id: str, body: RatingBody, key: str | None = None) -> TicketAnswer:
        path = f"/halls/{self._hall}/tickets/{quote(str(ticket_id), safe='')}/evaluation"
        return self._http.call("POST", path, TicketAnswer, body=body, headers=self._auth(device=True), key=key)

    # --- plumbing -------------------------------------------------------------------------
    @property
    def _hall(self) -> str:
        return quote(self.hall, safe="")

    @property
    def _window_path(self) -> str:
        return f"/halls/{self._hall}/windows/{quote(self.window, safe='')}"

    def _auth(self, device: bool = False) -> dict[str, str]:
        """The clerk's login (else the device's token). A rating goes with the terminal's device token
        only: the citizen rates on the screen turned to them, never under the clerk's login (the
        dispatcher refuses a staff login's rating with 403)."""
        token = self.device_token if device else (self.access_token or self.device_token)
        return {"Authorization": f"Bearer {token}"} if token else {}

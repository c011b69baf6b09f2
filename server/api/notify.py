"""The phone queue's SMS for supervisors (docs/phone-queue.md): is the gateway taking the messages?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from hallq.api_models import NotifyStatus
from server.api.deps import DispatcherDep, StaffDep
from server.notify.notifier import notify_status

router = APIRouter(tags=["tickets"])


@router.get("/halls/{hall}/notify", response_model=NotifyStatus)
async def sms_status(hall: str, request: Request, dispatcher: DispatcherDep, _staff: StaffDep) -> NotifyStatus:
    """The SMS gateway's kind, messages waiting for it, open tickets with a phone, messages sent since
    the start, and why the gateway last failed while it still does (supervisor or admin)."""
    dispatcher.runtime(hall)  # 404 for a hall this dispatcher does not serve
    notifier = getattr(request.app.state, "notifier", None)
    return await asyncio.to_thread(notify_status, dispatcher, notifier, hall)

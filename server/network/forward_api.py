"""The hub's routers for the catalogue and for cases across halls (DESIGN §14).

- `GET /hub/catalogue`: the city's items (and the halls a case may go to) as canonical JSON with a
  strong ETag; `If-None-Match` with the current tag → 304. Public: the catalogue is the handbook
  every hall publishes anyway (七公开).
- `POST /hub/halls/{hall}/transfers` (the sending hall's token): store a transfer once per key.
- `GET /hub/halls/{hall}/transfers` (the hall's token): what waits for it, oldest first.
- `POST /hub/halls/{hall}/transfers/{key}/ack` (the hall's token): it applied that one.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from hallq.forward_models import InboundTransfers, Transfer, TransferStored
from server.network import catalogue, transfers
from server.network.hub_auth import HubDep, UplinkHallDep

catalogue_router = APIRouter(prefix="/hub", tags=["hub"])
transfers_router = APIRouter(prefix="/hub", tags=["hub"])


@catalogue_router.get("/catalogue", responses={304: {"description": "the hall's copy is current"}})
async def get_catalogue(request: Request, hub: HubDep) -> Response:
    published = await asyncio.to_thread(catalogue.document, hub.store.engine)
    headers = {"ETag": published.etag, "Cache-Control": "no-cache"}
    asked = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if published.etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(published.body, media_type="application/json", headers=headers)


@transfers_router.post("/halls/{hall}/transfers", response_model=TransferStored)
async def post_transfer(hall: str, transfer: Transfer, hub: HubDep, registered: UplinkHallDep) -> JSONResponse:
    try:
        stored = await asyncio.to_thread(transfers.store_transfer, hub.store.engine, registered.hall, transfer)
    except transfers.TransferRefused as exc:
        return JSONResponse({"detail": f"转报无法转交：{exc}"}, status_code=422)
    answer = TransferStored(key=transfer.key, stored=stored)
    return JSONResponse(answer.model_dump(), status_code=201 if stored else 200)


@transfers_router.get("/halls/{hall}/transfers", response_model=InboundTransfers)
async def list_transfers(hall: str, hub: HubDep, registered: UplinkHallDep) -> InboundTransfers:
    waiting = await asyncio.to_thread(transfers.waiting_for, hub.store.engine, registered.hall)
    return InboundTransfers(transfers=waiting)


@transfers_router.post("/halls/{hall}/transfers/{key}/ack", status_code=204)
async def ack_transfer(hall: str, key: str, hub: HubDep, registered: UplinkHallDep) -> Response:
    known = await asyncio.to_thread(transfers.acknowledge, hub.store.engine, registered.hall, key)
    if not known:
        return JSONResponse({"detail": f"没有发往 {registered.hall} 的转交 {key}"}, status_code=404)
    return Response(status_code=204)

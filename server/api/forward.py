"""转报 at a hall: `POST /halls/{hall}/cases/{id}/forward {to_hall}` (staff), DESIGN §14.

Only a received case (收件, not yet accepted) may be forwarded: 409 naming its state otherwise; 422 for
a hall the hub does not know or the hall itself; 409 when this hall has no hub to forward through.
The answer is the case as the office sees it, now `forwarded`; the forwarder sends it off the
request's path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hallq.case_models import CaseView
from hallq.catalogue import CatalogueHall
from hallq.forward_models import ForwardBody
from server.api.cases import CasesDep, _run, office_user
from server.api.deps import PrincipalDep
from server.cases.service import CaseError
from server.network import forwarding
from server.network.forwarder import Forwarder
from server.runtime import utcnow

router = APIRouter(tags=["cases"])


@router.get("/halls/{hall}/forward-targets", response_model=list[CatalogueHall])
async def forward_targets(hall: str, request: Request, principal: PrincipalDep) -> list[CatalogueHall]:
    """The halls registered at the hub a case may go to (from the hall's copy of the catalogue)."""
    office_user(principal)
    forwarder: Forwarder | None = getattr(request.app.state, "forwarder", None)
    catalogue = await _run(forwarder.catalogue) if forwarder is not None and forwarder.serves(hall) else None
    return [h for h in catalogue.halls if h.hall != hall] if catalogue else []


@router.post("/halls/{hall}/cases/{case_id}/forward", response_model=CaseView)
async def forward_case(
    hall: str, case_id: str, body: ForwardBody, request: Request, principal: PrincipalDep, cases: CasesDep
) -> dict[str, Any]:
    actor = office_user(principal)
    forwarder: Forwarder | None = getattr(request.app.state, "forwarder", None)
    if forwarder is None or not forwarder.serves(hall):
        raise CaseError("本大厅未连接市级中心（hub），不能转报 — this hall has no hub to forward through")
    catalogue = await _run(forwarder.catalogue)
    view: dict[str, Any] = await _run(forwarding.forward, cases, case_id, body.to_hall, actor, utcnow(), catalogue)
    forwarder.wake()
    return view

"""Cases across halls at a hall (转报, DESIGN §14): 属地办理，异地收件.

A village point or a town receives a case (收件) whose item another hall decides, and forwards it:
`forward` turns the case `forwarded` and writes the transfer into the hall's outbox
(`case_transfers_out`) in the same transaction, so a case is never forwarded without its transfer
nor the other way round. The forwarder thread (server/network/forwarder.py) sends it to the hub.

The deciding hall `take_in`s it: a local case with the same receipt number (and the origin hall
beside it), its materials' list and the first hall's history, once per transfer key. Every step the
deciding hall takes on it writes news into its outbox (`news_hook`, inside the step's transaction);
back at the first hall `take_news` records where the case is (the citizen's page shows it) and, on
the decision, moves the case on to approved or rejected, from where the first hall hands the result
out as for any case.

Only masked personal data leaves the hall: the masked name, the masked ID number and the masked
phone. The HMAC of the ID number, the phone and the scanned files stay where the citizen gave them:
the scans are of ID cards, 户口簿 and contracts, full personal data that DESIGN §7 keeps in the hall,
so the deciding hall sees each material's name and status, and the papers follow by the halls' own
route (the originals the citizen left in the locker, or the first hall's copies).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hallq.catalogue import Catalogue
from hallq.forward_models import CaseNews, ForwardedCase, ForwardedMaterial, ForwardedStep, InboundTransfer, Transfer
from server.cases import tables as ct
from server.cases.service import Actor, CaseError, CaseService, Transition, mask_phone
from server.cases.workflow import STATUS_LABELS, CaseAction, CaseStatus, next_status
from server.network.forward_tables import case_links, case_transfers_in, case_transfers_out
from server.store.database import aware

DECISIONS = {CaseStatus.approved: "approved", CaseStatus.rejected: "rejected"}


class ForwardRefused(CaseError):
    """A forward the hall cannot make (no hub, unknown or own hall): 422 with the sentence."""


class NotYetApplicable(Exception):
    """A transfer this hall cannot take in yet (e.g. an item its config lacks); it stays at the hub."""


# ---- the first hall: forward ------------------------------------------------------------------------


def forward(
    cases: CaseService, case_id: str, to_hall: str, actor: Actor, now: dt.datetime, catalogue: Catalogue | None
) -> dict[str, Any]:
    """转报: the received case goes to `to_hall`; returns the case as the office sees it."""
    now = now.astimezone(dt.UTC)
    if to_hall == cases.hall:
        raise ForwardRefused("不能转报给本大厅 — a case cannot be forwarded to its own hall")
    known = catalogue.hall(to_hall) if catalogue else None
    if catalogue is not None and known is None:
        raise ForwardRefused(f"市中心登记的大厅中没有 {to_hall!r} — the hub has no such hall")
    peer_name = known.name if known else to_hall
    with cases._writer, cases.engine.begin() as conn:
        row = cases._row(conn, case_id)
        next_status(CaseStatus(row["status"]), CaseAction.forward)  # 409 naming the state, before any write
        if _link(conn, cases.hall, case_id) is not None:
            raise ForwardRefused("该办件是转报来的，由本大厅办理，不能再转报 — a forwarded case is decided here")
        payload = _forwarded_case(cases, conn, row)
        cases._transition(conn, row, CaseAction.forward, actor, now, f"转报至 {peer_name}")
        conn.execute(
            case_links.insert().values(
                hall=cases.hall, case_id=case_id, direction="out", peer_hall=to_hall, peer_name=peer_name[:40],
                updated_at=now,
            )
        )  # fmt: skip
        transfer = Transfer(key=f"{cases.hall}.{case_id}.case", to_hall=to_hall, kind="case", case_id=case_id,
                            case=payload)  # fmt: skip
        _outbox(conn, cases.hall, transfer, now)
        return cases.view(case_id, now, conn=conn, staff=True)


def _forwarded_case(cases: CaseService, conn: Connection, row: dict[str, Any]) -> ForwardedCase:
    materials = [
        ForwardedMaterial(name=m["name"], form=m["form"], copies=m["copies"], deferrable=m["deferrable"],
                          status=m["status"])
        for m in cases._materials(conn, row["id"])
    ]  # fmt: skip
    history = [
        ForwardedStep(at=aware(h.at) or h.at, actor=h.actor, role=h.role, action=h.action,
                      from_status=h.from_status, to_status=h.to_status, note=h.note)
        for h in conn.execute(
            sa.select(ct.case_history)
            .where(ct.case_history.c.hall == cases.hall, ct.case_history.c.case_id == row["id"])
            .order_by(ct.case_history.c.id)
        )
    ]  # fmt: skip
    return ForwardedCase(
        receipt_no=row["receipt_no"] or row["id"],
        item=row["item"],
        origin_name=cases.config.hall.name,
        channel=row["channel"],
        masked_name=row["masked_name"],
        masked_id=row["masked_id"],
        masked_phone=mask_phone(row["phone"]) if row["phone"] else "",
        received_at=row["received_at"] or row["created_at"],
        materials=materials,
        history=history,
    )


def _outbox(conn: Connection, hall: str, transfer: Transfer, now: dt.datetime) -> None:
    conn.execute(
        case_transfers_out.insert().values(
            key=transfer.key, hall=hall, to_hall=transfer.to_hall, kind=transfer.kind, case_id=transfer.case_id,
            payload=transfer.model_dump(mode="json"), created_at=now,
        )
    )  # fmt: skip


def unsent(conn: Connection, hall: str, limit: int = 50) -> list[tuple[int, Transfer]]:
    rows = conn.execute(
        sa.select(case_transfers_out.c.id, case_transfers_out.c.payload)
        .where(case_transfers_out.c.hall == hall, case_transfers_out.c.sent_at.is_(None))
        .order_by(case_transfers_out.c.id)
        .limit(limit)
    )
    return [(r.id, Transfer.model_validate(r.payload)) for r in rows]


def mark_sent(conn: Connection, outbox_id: int, now: dt.datetime) -> None:
    conn.execute(case_transfers_out.update().where(case_transfers_out.c.id == outbox_id).values(sent_at=now))


# ---- the deciding hall: take the case in, send news back ----------------------------------------------


def take_in(cases: CaseService, transfer: InboundTransfer, now: dt.datetime) -> bool:
    """The forwarded case becomes a received case here, once per key; False when already taken in."""
    case = transfer.case
    assert case is not None
    found = cases.config.item(case.item)
    if found is None:
        raise NotYetApplicable(f"this hall's config has no item {case.item!r}: add it (by code) to take the case in")
    service, _item = found
    now = now.astimezone(dt.UTC)
    with cases._writer, cases.engine.begin() as conn:
        if _applied(conn, cases.hall, transfer.key):
            return False
        conn.execute(
            ct.cases.insert().values(
                hall=cases.hall, id=transfer.case_id, receipt_no=case.receipt_no, origin_hall=transfer.from_hall,
                item=case.item, service=service.code, status=CaseStatus.received.value, channel="forward",
                masked_name=case.masked_name, masked_id=case.masked_id, phone=case.masked_phone,
                access_sha256=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),  # no citizen's page here
                created_at=now, received_at=now, updated_at=now,
            )
        )  # fmt: skip
        if case.materials:
            conn.execute(
                ct.case_materials.insert(),
                [
                    {"hall": cases.hall, "case_id": transfer.case_id, "idx": i, "name": m.name, "form": m.form,
                     "copies": m.copies, "deferrable": m.deferrable, "status": m.status, "updated_at": now}
                    for i, m in enumerate(case.materials)
                ],
            )  # fmt: skip
        _copy_history(conn, cases.hall, transfer, case)
        note = f"由{case.origin_name}转报，收件编号 {case.receipt_no}"
        cases._history(conn, transfer.case_id, Actor(f"hall:{transfer.from_hall}", "system"),
                       CaseAction.forward_in.value, None, CaseStatus.received, now, note)  # fmt: skip
        conn.execute(
            case_links.insert().values(
                hall=cases.hall, case_id=transfer.case_id, direction="in", peer_hall=transfer.from_hall,
                peer_name=case.origin_name[:40], updated_at=now,
            )
        )  # fmt: skip
        _mark_applied(conn, cases.hall, transfer.key, now)
    return True


def _copy_history(conn: Connection, hall: str, transfer: InboundTransfer, case: ForwardedCase) -> None:
    """The first hall's steps, each under its hall's name, so the history shows both halls."""
    if not case.history:
        return
    conn.execute(
        ct.case_history.insert(),
        [
            {"hall": hall, "case_id": transfer.case_id, "at": step.at.astimezone(dt.UTC),
             "actor": f"{transfer.from_hall}/{step.actor}"[:64], "role": step.role, "action": step.action,
             "from_status": step.from_status, "to_status": step.to_status, "note": step.note}
            for step in case.history
        ],
    )  # fmt: skip


def news_hook(cases: CaseService) -> Transition:
    """For `CaseService.on_transition`: a step on a case forwarded here sends news to where it came from."""

    def hook(
        conn: Connection, row: dict[str, Any], action: CaseAction, after: CaseStatus, note: str, now: dt.datetime
    ) -> None:
        link = _link(conn, cases.hall, row["id"])
        if link is None or link["direction"] != "in":
            return
        sent = conn.execute(
            sa.select(sa.func.count()).select_from(case_transfers_out).where(
                case_transfers_out.c.hall == cases.hall, case_transfers_out.c.case_id == row["id"]
            )
        ).scalar_one()  # fmt: skip
        news = CaseNews(hall_name=cases.config.hall.name, status=after.value, status_label=STATUS_LABELS[after],
                        note=note, at=now, decision=DECISIONS.get(after))  # type: ignore[arg-type]  # fmt: skip
        transfer = Transfer(key=f"{cases.hall}.{row['id']}.news.{int(sent) + 1}", to_hall=link["peer_hall"],
                            kind="news", case_id=row["id"], news=news)  # fmt: skip
        _outbox(conn, cases.hall, transfer, now)

    return hook


# ---- the first hall again: the news ------------------------------------------------------------------


def take_news(cases: CaseService, transfer: InboundTransfer, now: dt.datetime) -> bool:
    """Record where the forwarded case stands; on the decision, move it on. Once per key."""
    news = transfer.news
    assert news is not None
    now = now.astimezone(dt.UTC)
    with cases._writer, cases.engine.begin() as conn:
        if _applied(conn, cases.hall, transfer.key):
            return False
        link = _link(conn, cases.hall, transfer.case_id)
        if link is None or link["direction"] != "out" or link["peer_hall"] != transfer.from_hall:
            raise NotYetApplicable(f"case {transfer.case_id} was not forwarded from here to {transfer.from_hall}")
        conn.execute(
            case_links.update()
            .where(case_links.c.hall == cases.hall, case_links.c.case_id == transfer.case_id)
            .values(remote_status=news.status, remote_label=news.status_label[:40],
                    remote_at=news.at.astimezone(dt.UTC), updated_at=now)
        )  # fmt: skip
        row = cases._row(conn, transfer.case_id)
        actor = Actor(f"hall:{transfer.from_hall}", "system")
        text = f"{news.hall_name}：{news.status_label}" + (f"（{news.note}）" if news.note else "")
        status = CaseStatus(row["status"])
        if news.decision and status == CaseStatus.forwarded:
            action = CaseAction.remote_approve if news.decision == "approved" else CaseAction.remote_reject
            cases._transition(conn, row, action, actor, now, text, decided_at=now, decision_note=news.note or None)
        else:
            cases._history(conn, transfer.case_id, actor, CaseAction.remote_update.value, status, status, now, text)
        _mark_applied(conn, cases.hall, transfer.key, now)
    return True


def elsewhere(cases: CaseService, case_id: str) -> dict[str, Any] | None:
    """For the citizen's page: the hall deciding a case forwarded from here, and its state there."""
    with cases.engine.connect() as conn:
        link = _link(conn, cases.hall, case_id)
    if link is None or link["direction"] != "out":
        return None
    answer: dict[str, Any] = {"hall": link["peer_hall"], "hall_name": link["peer_name"], "at": aware(link["remote_at"])}
    if link["remote_status"]:
        answer.update(status=link["remote_status"], status_label=link["remote_label"] or "")
    return answer


def _link(conn: Connection, hall: str, case_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(case_links).where(case_links.c.hall == hall, case_links.c.case_id == case_id)
    ).mappings().first()  # fmt: skip
    return dict(row) if row else None


def _applied(conn: Connection, hall: str, key: str) -> bool:
    found = conn.execute(
        sa.select(case_transfers_in.c.key).where(case_transfers_in.c.key == key, case_transfers_in.c.hall == hall)
    ).first()
    return found is not None


def _mark_applied(conn: Connection, hall: str, key: str, now: dt.datetime) -> None:
    conn.execute(case_transfers_in.insert().values(key=key, hall=hall, applied_at=now))

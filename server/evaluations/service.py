"""Ratings and rectification orders in the store (DESIGN.md §11).

A rating is one transaction: the rating row and, for a 差评, its rectification order, the order's first
history line and the audit entry, so a 差评 never exists without its order. 一次一评 is the table's
unique key (hall, subject, id, round): two ratings racing for one ticket leave one, the other is 409.
An order's step is one transaction too, an UPDATE guarded by the status it read: two supervisors acting
at once cannot both move it, the second gets the 409 naming the status the first left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hallq.config import HallConfig
from server.cases.calendar import WorkingCalendar
from server.evaluations import outbox
from server.evaluations import tables as t
from server.evaluations.records import record_of
from server.evaluations.workflow import (
    ACTION_LABELS,
    ADMIN_ACTIONS,
    CHANNEL_PF,
    LEVELS,
    STATUS_LABELS,
    WINDOW_CLERK_ACTIONS,
    Deadlines,
    OrderAction,
    OrderStatus,
    call_back_action,
    deadlines,
    due_soon,
    is_bad,
    next_status,
    overdue_flags,
)
from server.store import schema
from server.store.codec import ticket_from_data
from server.store.database import aware

log = logging.getLogger(__name__)
STAFF = frozenset({"supervisor", "admin"})
FOLLOW_UP_STATUSES = frozenset({OrderStatus.rectified.value, OrderStatus.closed.value})
OPEN_ACTOR = ("system:evaluations", "system")


class EvaluationError(Exception):
    """A rating or an order step that cannot be done (409); the message is for the citizen or staff."""

    http_status = 409


class AlreadyRated(EvaluationError):
    def __init__(self, number: str, subject: str = "ticket") -> None:
        if subject == "case":
            super().__init__(f"办件{number}已经评价过了（一事一评）。 Case {number} has already been evaluated.")
        else:
            super().__init__(f"{number}号已经评价过了（一次一评）。 Ticket {number} has already been evaluated.")


class AlreadyFollowedUp(EvaluationError):
    def __init__(self, number: str) -> None:
        super().__init__(f"{number}已经追评过了（追评只有一次）。 {number} already has its follow-up rating.")


class BadRating(EvaluationError):
    """A rating the hall's options do not allow (422)."""

    http_status = 422


class EvaluationNotFound(EvaluationError):
    http_status = 404


class NotAllowed(EvaluationError):
    """The caller may not take this step on this order (403)."""

    http_status = 403


@dataclass(frozen=True)
class Actor:
    name: str  # "user:supervisor", "device:evaluator-1", "citizen"
    role: str  # clerk / supervisor / admin, a device kind, or citizen
    window: str | None = None  # a clerk's login window
    staff_id: str | None = None  # a clerk's user name: the `clerk` a rating of their service names

    def owns(self, window: str | None, clerk: str | None) -> bool:
        """A clerk's own: rated at the window they are logged in to, or rated for their own service
        (the rating's staff id is their user name), wherever they served and whether or not they are
        logged in to a window now."""
        if self.role != "clerk":
            return False
        at_window = self.window is not None and self.window == window
        return at_window or (self.staff_id is not None and self.staff_id == clerk)

    def own_ratings(self, ratings: sa.Table) -> sa.ColumnElement[bool]:
        """`owns` as a condition on the ratings table."""
        mine = [ratings.c.clerk == self.staff_id] if self.staff_id else []
        if self.window is not None:
            mine.append(ratings.c.window == self.window)
        return sa.or_(*mine) if mine else sa.false()


@dataclass(frozen=True)
class RatedService:
    """The facts of the service being rated, as the queue (or the case) recorded them."""

    subject: str  # ticket / case
    subject_id: str
    number: str  # the ticket's number (A012) or the case's receipt number
    window: str | None
    clerk: str | None
    service: str | None
    task_code: str
    task_name: str
    served_at: dt.datetime


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


class EvaluationService:
    def __init__(
        self, engine: Engine, config: HallConfig, hmac_key: bytes, calendar: WorkingCalendar | None = None
    ) -> None:
        self.engine = engine
        self.config = config
        self.rules = config.evaluation
        self.hall = config.hall.id
        self.hmac_key = hmac_key
        self.calendar = calendar or WorkingCalendar(config.hall.holidays, config.hall.workdays)
        self.listeners: list[Callable[[], None]] = []  # told after each committed change (the feeder)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.config.hall.tz()).date()

    # ---- rating --------------------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        levels = [
            {
                "score": score,
                "label": label,
                "is_bad": is_bad(score),
                "reasons": [{"code": c, "label": n} for c, n in self.rules.reason_labels(score).items()],
            }
            for score, label in LEVELS.items()
        ]
        return {"levels": levels, "window_days": self.rules.window_days}

    def check_open(self, rated: RatedService, now: dt.datetime) -> None:
        """Refuse a rating after the hall's rating window (window_days after the service)."""
        if now - rated.served_at > dt.timedelta(days=self.rules.window_days):
            raise EvaluationError(
                f"{rated.number}号办理已超过{self.rules.window_days}天，评价期限已过。"
                f" The rating window of {self.rules.window_days} days has passed."
            )

    def rate(
        self,
        rated: RatedService,
        *,
        score: int,
        reasons: list[str],
        comment: str,
        channel: str,
        contact_phone: str | None,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """Store one rating; a 差评 opens its rectification order in the same transaction."""
        now = now.astimezone(dt.UTC)
        self.check_open(rated, now)
        row = self._rating_values(rated, score, reasons, comment, channel, contact_phone, now)
        order_id = None
        try:
            with self.engine.begin() as conn:  # a second rating breaks uq_ratings_once: AlreadyRated
                conn.execute(t.ratings.insert().values(**row))
                order = None
                if is_bad(score):
                    order_id = self._open_order(conn, row["id"], rated, now)
                    order = self._order_of(conn, row["id"])
                record = record_of(self.rating_view(row), order, self.rules, self.config.hall.tz())
                outbox.append(conn, self.hall, row["id"], {**record, "follows": ""}, now, revision=0)
        except IntegrityError:
            raise AlreadyRated(rated.number, rated.subject) from None
        self.notify()
        answer: dict[str, Any] = {"id": row["id"], "score": score, "is_bad": is_bad(score), "rectification": None}
        if order_id is not None:
            answer["rectification"] = self.order(order_id, now)
        return answer

    def _rating_values(
        self, rated: RatedService, score: int, reasons: list[str], comment: str, channel: str,
        contact_phone: str | None, now: dt.datetime, round_: int = 0,
    ) -> dict[str, Any]:  # fmt: skip
        """The ratings row of a rating (round 0) or a 追评 (round 1); refuses reasons the level lacks."""
        labels = self.rules.reason_labels(score)
        unknown = [r for r in reasons if r not in labels]
        if unknown:
            raise BadRating(
                f"「{LEVELS[score]}」没有这些评价原因：{'、'.join(unknown)}。"
                f" Unknown reason codes for score {score}: {', '.join(unknown)}."
            )
        return {
            "hall": self.hall,
            "id": secrets.token_hex(8),
            "subject": rated.subject,
            "subject_id": rated.subject_id,
            "round": round_,
            "number": rated.number,
            "score": score,
            "reasons": list(dict.fromkeys(reasons)),
            "comment": (comment or "").strip()[:500],
            "channel": channel,
            "pf": CHANNEL_PF[channel],
            "window": rated.window,
            "clerk": rated.clerk,
            "service": rated.service,
            "task_code": rated.task_code,
            "task_name": rated.task_name,
            "masked_phone": mask_phone(contact_phone) if contact_phone else "",
            "phone_hmac": self._phone_hmac(contact_phone) if contact_phone else None,
            "counts": True,
            "void_reason": None,
            "served_at": rated.served_at.astimezone(dt.UTC),
            "rated_at": now,
        }

    # ---- 追评: one follow-up rating after the 差评's order was rectified ----------------------------

    def follow_up(
        self, subject: str, subject_id: str, *, score: int, reasons: list[str], comment: str, channel: str,
        contact_phone: str | None, now: dt.datetime,
    ) -> dict[str, Any]:  # fmt: skip
        """The citizen's 追评 of a rectified (or closed) order: once, within window_days of the 整改, kept
        as round 1 beside the first rating (counted apart: it opens no order and is not a second 一次一评)."""
        now = now.astimezone(dt.UTC)
        with self.engine.connect() as conn:
            first = self._first_rating(conn, subject, subject_id)
        if first is None:
            raise EvaluationError("还没有评价，不能追评。 There is no rating to follow up yet.")
        try:
            with self.engine.begin() as conn:
                self._follow_up_open(conn, first, now)
                rated = RatedService(
                    subject, subject_id, first["number"], first["window"], first["clerk"], first["service"],
                    first["task_code"], first["task_name"], first["served_at"],
                )  # fmt: skip
                row = self._rating_values(rated, score, reasons, comment, channel, contact_phone, now, round_=1)
                conn.execute(t.ratings.insert().values(**row))
                self._feed(conn, row["id"], now, follows=first["id"])
        except IntegrityError:
            raise AlreadyFollowedUp(first["number"]) from None
        self.notify()
        return {"id": row["id"], "score": score, "is_bad": is_bad(score), "rectification": None,
                "follows": first["id"]}  # fmt: skip

    def _follow_up_open(self, conn: Connection, first: dict[str, Any], now: dt.datetime) -> None:
        """When the order was rectified; refuses a 追评 before that, after the window, or a second one."""
        order = self._order_of(conn, first["id"])
        if order is None or order["status"] not in FOLLOW_UP_STATUSES:
            raise EvaluationError(
                f"{first['number']}的差评整改完成后才能追评。 A follow-up rating comes after the rectification."
            )
        if self._round(conn, first["subject"], first["subject_id"], 1) is not None:
            raise AlreadyFollowedUp(first["number"])
        rectified_at = self._rectified_at(conn, order["id"])
        if now - rectified_at > dt.timedelta(days=self.rules.window_days):
            raise EvaluationError(
                f"整改已超过{self.rules.window_days}天，追评期限已过。"
                f" The follow-up window of {self.rules.window_days} days after the rectification has passed."
            )

    def _rectified_at(self, conn: Connection, order_id: str) -> dt.datetime:
        found = conn.execute(
            sa.select(sa.func.max(t.rectification_history.c.at)).where(
                t.rectification_history.c.hall == self.hall,
                t.rectification_history.c.order_id == order_id,
                t.rectification_history.c.action == OrderAction.rectify.value,
            )
        ).scalar()
        moment = aware(found) if found is not None else None
        return moment or dt.datetime.min.replace(tzinfo=dt.UTC)

    def state(self, subject: str, subject_id: str, now: dt.datetime) -> dict[str, Any]:
        """What the citizen's page shows of their rating: none yet, thanks, or the 追评 on offer."""
        with self.engine.connect() as conn:
            first = self._first_rating(conn, subject, subject_id)
            if first is None:
                return {"rating": None, "order_status": None, "order_status_label": None,
                        "follow_up_open": False, "follow_up": None}  # fmt: skip
            order = self._order_of(conn, first["id"])
            second = self._round(conn, subject, subject_id, 1)
            try:
                self._follow_up_open(conn, first, now.astimezone(dt.UTC))
                open_ = True
            except EvaluationError:
                open_ = False
        status = OrderStatus(order["status"]) if order else None
        return {
            "rating": self.rating_view(first),
            "order_status": status.value if status else None,
            "order_status_label": STATUS_LABELS[status] if status else None,
            "follow_up_open": open_,
            "follow_up": self.rating_view(second) if second else None,
        }

    def ticket_access(self, ticket_id: str) -> str | None:
        """The stored ticket's access key (the QR's `k`), for pages opened after it left the live queue."""
        with self.engine.connect() as conn:
            data = conn.execute(
                sa.select(schema.tickets.c.data).where(
                    schema.tickets.c.hall == self.hall, schema.tickets.c.id == ticket_id
                )
            ).scalar()
        return str(data["access"]) if isinstance(data, dict) and data.get("access") else None

    def _first_rating(self, conn: Connection, subject: str, subject_id: str) -> dict[str, Any] | None:
        return self._round(conn, subject, subject_id, 0)

    def _round(self, conn: Connection, subject: str, subject_id: str, round_: int) -> dict[str, Any] | None:
        found = (
            conn.execute(
                sa.select(t.ratings).where(
                    t.ratings.c.hall == self.hall,
                    t.ratings.c.subject == subject,
                    t.ratings.c.subject_id == subject_id,
                    t.ratings.c.round == round_,
                )
            )
            .mappings()
            .first()
        )
        return _aware_row(found) if found is not None else None

    def _order_of(self, conn: Connection, rating_id: str) -> dict[str, Any] | None:
        found = (
            conn.execute(
                sa.select(t.rectifications).where(
                    t.rectifications.c.hall == self.hall, t.rectifications.c.rating_id == rating_id
                )
            )
            .mappings()
            .first()
        )
        return _aware_row(found) if found is not None else None

    def _phone_hmac(self, phone: str) -> str:
        return hmac.new(self.hmac_key, b"phone:" + phone.encode("ascii"), hashlib.sha256).hexdigest()

    def _open_order(self, conn: Connection, rating_id: str, rated: RatedService, now: dt.datetime) -> str:
        order_id = secrets.token_hex(8)
        conn.execute(
            t.rectifications.insert().values(
                hall=self.hall,
                id=order_id,
                rating_id=rating_id,
                status=OrderStatus.open.value,
                window=rated.window,
                opened_on=self.local_date(now),
                reopened=0,
                created_at=now,
                updated_at=now,
            )
        )
        actor = Actor(*OPEN_ACTOR)
        note = f"差评：{rated.number}（{rated.window or '-'}号窗口）"
        self._record(conn, order_id, rated.window, actor, "open", None, OrderStatus.open, now, note)
        return order_id

    # ---- the order's steps ---------------------------------------------------------------------

    def act(
        self, order_id: str, action: OrderAction | str, actor: Actor, now: dt.datetime, *, text: str = "",
        satisfied: bool | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """One step of the order (`call_back` with `satisfied`); answers the order as `order` shows it."""
        now = now.astimezone(dt.UTC)
        text = text.strip()
        with self.engine.begin() as conn:
            row = self._order_row(conn, order_id)
            before = OrderStatus(row["status"])
            if action == "call_back":
                if satisfied is None:
                    raise BadRating("回访须记录群众是否满意。 A call-back needs the citizen's answer.")
                action = call_back_action(satisfied, row["reopened"])
            action = OrderAction(action)
            self._may(actor, action, row, self._rating_row(conn, row["rating_id"])["clerk"])
            after = next_status(before, action)
            values = self._step_values(action, text, actor, now, satisfied, row)
            changed = conn.execute(
                t.rectifications.update()
                .where(
                    t.rectifications.c.hall == self.hall,
                    t.rectifications.c.id == order_id,
                    t.rectifications.c.status == before.value,
                )
                .values(status=after.value, updated_at=now, **values)
            ).rowcount
            if changed != 1:  # another step landed between our read and this write
                next_status(OrderStatus(self._order_row(conn, order_id)["status"]), action)
                raise EvaluationError("整改单刚被他人处理，请刷新后重试。 The order just changed; reload it.")
            if action == OrderAction.uphold:
                conn.execute(
                    t.ratings.update()
                    .where(t.ratings.c.hall == self.hall, t.ratings.c.id == row["rating_id"])
                    .values(counts=False, void_reason=text[:500])
                )
            self._record(conn, order_id, row["window"], actor, action.value, before, after, now, text)
            self._feed(conn, row["rating_id"], now)
        self.notify()
        return self.order(order_id, now, viewer=actor)

    # ---- the platform feed -----------------------------------------------------------------------

    def _feed(self, conn: Connection, rating_id: str, now: dt.datetime, follows: str | None = None) -> None:
        """The rating's record as it now stands, into the feed's outbox (same transaction as the change)."""
        rating = self.rating_view(self._rating_row(conn, rating_id))
        record = record_of(rating, self._order_of(conn, rating_id), self.rules, self.config.hall.tz())
        outbox.append(conn, self.hall, rating_id, {**record, "follows": follows or ""}, now)

    def notify(self) -> None:
        """Wake whoever feeds the sinks (after the commit); a listener's failure never fails the change."""
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:
                log.exception("a rating feed listener failed")

    def _may(self, actor: Actor, action: OrderAction, row: dict[str, Any], clerk: str | None) -> None:
        """Supervisors and admins take every step (closing an escalated order: admin, the hall's head);
        the clerk whose own order it is (`Actor.owns`: their window, or their service) may appeal and
        record the measures; the one who appealed does not decide the appeal."""
        if action in ADMIN_ACTIONS and actor.role != "admin":
            raise NotAllowed("提级的整改单由大厅负责人（管理员）结案。 Only an admin closes an escalated order.")
        if action in (OrderAction.uphold, OrderAction.reject) and row["appealed_by"] == actor.name:
            raise NotAllowed("申诉人不能审核自己的申诉。 The one who appealed may not decide the appeal.")
        if actor.role in STAFF:
            return
        if actor.role == "clerk" and action in WINDOW_CLERK_ACTIONS:
            if actor.owns(row["window"], clerk):
                return
            raise NotAllowed(
                f"只能处理本人或本窗口的整改单（{row['window'] or '-'}号窗口）。"
                " A clerk acts only on the orders about their own service or their window."
            )
        raise NotAllowed(
            f"「{ACTION_LABELS[action]}」需要值班主任或管理员权限。 {action.value}: supervisor or admin only."
        )

    def _step_values(
        self, action: OrderAction, text: str, actor: Actor, now: dt.datetime, satisfied: bool | None,
        row: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        if action == OrderAction.verify:
            return {"facts": text[:1000]}
        if action == OrderAction.rectify:
            return {"measures": text[:1000], "rectified_on": self.local_date(now)}
        if action in (OrderAction.satisfied, OrderAction.unsatisfied, OrderAction.unsatisfied_again):
            reopened = row["reopened"] + (action == OrderAction.unsatisfied)
            return {"call_back": text[:500], "satisfied": satisfied, "reopened": reopened}
        if action == OrderAction.appeal:
            return {"appeal": text[:500], "appealed_by": actor.name}
        return {"decision": text[:500]}  # uphold, reject, close

    def _record(
        self, conn: Connection, order_id: str, window: str | None, actor: Actor, action: str,
        before: OrderStatus | None, after: OrderStatus, now: dt.datetime, note: str,
    ) -> None:  # fmt: skip
        """The order's history line and the hall's audit entry: who, when, what."""
        conn.execute(
            t.rectification_history.insert().values(
                hall=self.hall,
                order_id=order_id,
                at=now,
                actor=actor.name,
                role=actor.role,
                action=action,
                from_status=before.value if before else None,
                to_status=after.value,
                note=note[:1000],
            )
        )
        detail = {"window": window, "from": before.value if before else None, "to": after.value, "note": note[:500]}
        conn.execute(
            schema.audit_log.insert().values(
                at=now,
                hall=self.hall,
                actor=actor.name,
                role=actor.role,
                action=f"rectification.{action}",
                target=order_id,
                detail=detail,
            )
        )

    # ---- views ---------------------------------------------------------------------------------

    def _order_row(self, conn: Connection, order_id: str) -> dict[str, Any]:
        found = (
            conn.execute(
                sa.select(t.rectifications).where(
                    t.rectifications.c.hall == self.hall, t.rectifications.c.id == order_id
                )
            )
            .mappings()
            .first()
        )
        if found is None:
            raise EvaluationNotFound(f"没有编号为 {order_id} 的整改单。 No such rectification order.")
        return _aware_row(found)

    def may_see(self, viewer: Actor | None, window: str | None, clerk: str | None) -> bool:
        """Supervisors and admins see everything; a clerk sees their own (`Actor.owns`)."""
        if viewer is None or viewer.role in STAFF:
            return True
        return viewer.owns(window, clerk)

    def order(self, order_id: str, now: dt.datetime, *, viewer: Actor | None = None) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = self._order_row(conn, order_id)
            rating = self._rating_row(conn, row["rating_id"])
            if not self.may_see(viewer, row["window"], rating["clerk"]):
                raise NotAllowed(
                    "只能查看本人或本窗口的整改单。 A clerk sees the orders about their own service or their window."
                )
            return self._order_view(conn, row, rating, now)

    def _rating_row(self, conn: Connection, rating_id: str) -> dict[str, Any]:
        found = (
            conn.execute(sa.select(t.ratings).where(t.ratings.c.hall == self.hall, t.ratings.c.id == rating_id))
            .mappings()
            .first()
        )
        if found is None:
            raise EvaluationNotFound(f"没有编号为 {rating_id} 的评价。 No such rating.")
        return _aware_row(found)

    def deadlines_of(self, row: dict[str, Any]) -> Deadlines:
        return deadlines(
            self.calendar,
            opened_on=row["opened_on"],
            rectified_on=row["rectified_on"],
            verify_days=self.rules.verify_days,
            rectify_days=self.rules.rectify_days,
            call_back_days=self.rules.call_back_days,
        )

    def _order_view(
        self, conn: Connection, row: dict[str, Any], rating: dict[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        status = OrderStatus(row["status"])
        due = self.deadlines_of(row)
        today = self.local_date(now)
        evaluation = self.rating_view(rating)
        return {
            "id": row["id"],
            "status": status.value,
            "status_label": STATUS_LABELS[status],
            "evaluation": evaluation,
            "ticket": rating["subject_id"] if rating["subject"] == "ticket" else None,
            "case": rating["subject_id"] if rating["subject"] == "case" else None,
            "window": row["window"],
            "due": {"verify": due.verify, "rectify": due.rectify, "call_back": due.call_back},
            "overdue": overdue_flags(status, due, today),
            "due_soon": due_soon(status, due, today, self.calendar),
            "reopened": row["reopened"],
            "escalated": status == OrderStatus.escalated or self._was_escalated(conn, row["id"]),
            "facts": row["facts"],
            "measures": row["measures"],
            "call_back": row["call_back"],
            "satisfied": row["satisfied"],
            "appeal": row["appeal"],
            "decision": row["decision"],
            "history": self._history(conn, row["id"]),
            "times": self._ticket_times(conn, rating) if rating["subject"] == "ticket" else None,
        }

    def _ticket_times(self, conn: Connection, rating: dict[str, Any]) -> dict[str, Any] | None:
        """Waiting and service time of the rated ticket, read from the queue's store (none if gone)."""
        data = conn.execute(
            sa.select(schema.tickets.c.data).where(
                schema.tickets.c.hall == self.hall, schema.tickets.c.id == rating["subject_id"]
            )
        ).scalar_one_or_none()
        if data is None:
            return None
        ticket = ticket_from_data(data)
        first_call = ticket.first_called_at or ticket.called_at
        return {
            "issued_at": ticket.issued_at,
            "called_at": ticket.called_at,
            "finished_at": ticket.finished_at,
            "wait_s": _seconds(ticket.issued_at, first_call),
            "service_s": _seconds(ticket.called_at, ticket.finished_at),
        }

    def _history(self, conn: Connection, order_id: str) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(t.rectification_history)
            .where(t.rectification_history.c.hall == self.hall, t.rectification_history.c.order_id == order_id)
            .order_by(t.rectification_history.c.id)
        ).mappings()
        return [
            {
                "at": aware(r["at"]),
                "actor": r["actor"],
                "role": r["role"],
                "action": r["action"],
                "label": _step_label(r["action"]),
                "from_status": r["from_status"],
                "to_status": r["to_status"],
                "note": r["note"],
            }
            for r in rows
        ]

    def _was_escalated(self, conn: Connection, order_id: str) -> bool:
        found = conn.execute(
            sa.select(t.rectification_history.c.id).where(
                t.rectification_history.c.hall == self.hall,
                t.rectification_history.c.order_id == order_id,
                t.rectification_history.c.to_status == OrderStatus.escalated.value,
            )
        ).first()
        return found is not None

    def rating_view(self, rating: dict[str, Any]) -> dict[str, Any]:
        labels = self.rules.reason_labels(rating["score"])
        return {
            "id": rating["id"],
            "subject": rating["subject"],
            "subject_id": rating["subject_id"],
            "number": rating["number"],
            "round": rating["round"],
            "score": rating["score"],
            "level": LEVELS[rating["score"]],
            "is_bad": is_bad(rating["score"]),
            "reasons": [{"code": c, "label": labels.get(c, c)} for c in rating["reasons"]],
            "comment": rating["comment"],
            "channel": rating["channel"],
            "pf": rating["pf"],
            "window": rating["window"],
            "clerk": rating["clerk"],
            "service": rating["service"],
            "task_code": rating["task_code"],
            "task_name": rating["task_name"],
            "real_name": bool(rating["masked_phone"]),
            "masked_phone": rating["masked_phone"],
            "counts": rating["counts"],
            "void_reason": rating["void_reason"],
            "served_at": rating["served_at"],
            "rated_at": rating["rated_at"],
        }

    def orders(
        self, now: dt.datetime, *, viewer: Actor | None = None, status: str | None = None, flag: str | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """The supervisor's lists: by status, or `overdue` / `due_soon`; a clerk sees their own (`Actor.owns`)."""
        query = sa.select(t.rectifications).where(t.rectifications.c.hall == self.hall)
        if status:
            query = query.where(t.rectifications.c.status == OrderStatus(status).value)
        if viewer is not None and viewer.role not in STAFF:
            rated = t.ratings
            query = query.join(
                rated, sa.and_(rated.c.hall == t.rectifications.c.hall, rated.c.id == t.rectifications.c.rating_id)
            ).where(viewer.own_ratings(rated))
        out = []
        with self.engine.connect() as conn:
            for found in conn.execute(query.order_by(t.rectifications.c.created_at.desc()).limit(5000)).mappings():
                row = _aware_row(found)
                view = self._order_view(conn, row, self._rating_row(conn, row["rating_id"]), now)
                if flag == "overdue" and not view["overdue"] or flag == "due_soon" and not view["due_soon"]:
                    continue
                out.append(view)
                if len(out) >= limit:
                    break
        return out

    def ratings(
        self, *, start: dt.datetime | None = None, end: dt.datetime | None = None, window: str | None = None,
        score: int | None = None, limit: int = 1000, viewer: Actor | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """The ratings in [start, end); a clerk `viewer` gets their own only (`Actor.owns`)."""
        query = sa.select(t.ratings).where(t.ratings.c.hall == self.hall)
        if viewer is not None and viewer.role not in STAFF:
            query = query.where(viewer.own_ratings(t.ratings))
        if start is not None:
            query = query.where(t.ratings.c.rated_at >= start.astimezone(dt.UTC))
        if end is not None:
            query = query.where(t.ratings.c.rated_at < end.astimezone(dt.UTC))
        if window is not None:
            query = query.where(t.ratings.c.window == window)
        if score is not None:
            query = query.where(t.ratings.c.score == score)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.ratings.c.rated_at, t.ratings.c.id).limit(limit)).mappings()
            return [self.rating_view(_aware_row(r)) for r in rows]

    def ratings_with_orders(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Every rating in [start, end) with its rectification order (None for a rating without one)."""
        joined = sa.select(t.ratings, t.rectifications.c.id.label("order_id")).outerjoin(
            t.rectifications,
            sa.and_(t.rectifications.c.hall == t.ratings.c.hall, t.rectifications.c.rating_id == t.ratings.c.id),
        )
        query = joined.where(
            t.ratings.c.hall == self.hall,
            t.ratings.c.rated_at >= start.astimezone(dt.UTC),
            t.ratings.c.rated_at < end.astimezone(dt.UTC),
        ).order_by(t.ratings.c.rated_at, t.ratings.c.id)
        out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        with self.engine.connect() as conn:
            for found in conn.execute(query).mappings().all():
                row = _aware_row(found)
                order = self._order_row(conn, row["order_id"]) if row["order_id"] else None
                out.append((self.rating_view(row), order))
        return out


def _aware_row(row: Any) -> dict[str, Any]:
    return {k: aware(v) if isinstance(v, dt.datetime) else v for k, v in row.items()}


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    return max(0, round((end - start).total_seconds())) if start and end else None


def _step_label(action: str) -> str:
    try:
        return ACTION_LABELS[OrderAction(action)]
    except ValueError:
        return {"open": "差评生成整改单"}.get(action, action)

"""Bookings in the store (DESIGN.md §13): slots with their places, book, read, cancel, reschedule, and
the check-in's claim on a booking. Every call touches the database: callers run it in a worker thread.

A booking is one transaction whose first statement writes (the slot's counter row), so on SQLite it
holds the writer lock from its start and on PostgreSQL the counter row is locked until it commits: the
guarded `booked < capacity` UPDATE lets exactly one of two racing phones take the last place. The
unique `active_key` keeps one standing booking per person, service and day, also under a race.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hallq.config import HallConfig, Service
from server import pii
from server.appointments import tables as t
from server.appointments.slots import Slot, find_slot, places_per_slot, slots_on
from server.appointments.workflow import (
    STATUS_LABELS,
    Action,
    Arrival,
    Margins,
    Status,
    arrival,
    effective_status,
    next_status,
)
from server.store.database import _dialect_insert


class AppointmentError(Exception):
    """A booking that cannot be done (409 unless said otherwise); the message is for the citizen."""

    http_status = 409


class AppointmentNotFound(AppointmentError):
    http_status = 404


class BadBooking(AppointmentError):
    http_status = 422


class SlotFull(AppointmentError):
    def __init__(self, start: dt.datetime) -> None:
        at = start.strftime("%m月%d日 %H:%M")
        super().__init__(f"{at} 的预约名额已满，请选择其他时段。 This slot is fully booked; please choose another.")


@dataclass(frozen=True)
class Claimed:
    """A booking the check-in took (status now checked_in), with what the ticket needs."""

    id: str
    code: str
    service: str
    start: dt.datetime
    end: dt.datetime
    id_hash: str


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def new_code() -> str:
    """8 digits: short enough to type at a kiosk, random so it cannot be guessed from another."""
    return f"{secrets.randbelow(10**8):08d}"


class AppointmentService:
    def __init__(self, engine: Engine, config: HallConfig, hmac_key: bytes) -> None:
        self.engine = engine
        self.config = config
        self.rules = config.appointments
        self.hall = config.hall.id
        self.hmac_key = hmac_key
        self.margins = Margins(
            early=dt.timedelta(minutes=config.priority.appointment_early_min),
            late=dt.timedelta(minutes=config.priority.appointment_late_min),
        )

    # ---- slots ---------------------------------------------------------------------------------

    def local_date(self, moment: dt.datetime) -> dt.date:
        return self._local(moment).date()

    def _local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.config.hall.tz())

    def service(self, code: str) -> Service:
        found = self.config.service(code)
        if found is None:
            raise AppointmentNotFound(f"没有业务 {code}。 Unknown service {code!r}.")
        return found

    def options(self, now: dt.datetime) -> dict[str, Any]:
        """The booking page's start; a service with no share kept for bookings is not offered there."""
        return {
            "enabled": self.rules.enabled,
            "hall_name": self.config.hall.name,
            "today": self.local_date(now),
            "days_ahead": self.rules.days_ahead,
            "slot_min": self.rules.slot_min,
            "early_min": self.config.priority.appointment_early_min,
            "late_min": self.config.priority.appointment_late_min,
            "services": [s.model_dump(include={"code", "name", "department"}) for s in self.config.services
                         if places_per_slot(self.config, s) > 0],
        }  # fmt: skip

    def check_bookable_day(self, day: dt.date, now: dt.datetime) -> None:
        today = self.local_date(now)
        last = today + dt.timedelta(days=self.rules.days_ahead)
        if not today <= day <= last:
            raise BadBooking(
                f"只能预约 {today:%m月%d日} 至 {last:%m月%d日} 的时段。 Bookings are open from {today} to {last}."
            )

    def slots(self, code: str, day: dt.date, now: dt.datetime) -> list[dict[str, Any]]:
        """The day's slots with their places taken; a slot already started, or with no place, is left out."""
        service = self.service(code)
        self.check_bookable_day(day, now)
        offered = [s for s in slots_on(self.config, service, day) if s.start > now and s.capacity > 0]
        taken = self._booked(code, [s.start for s in offered])
        return [
            {"start": s.start, "end": s.end, "capacity": s.capacity, "booked": taken.get(s.start, 0)} for s in offered
        ]

    def _booked(self, code: str, starts: list[dt.datetime]) -> dict[dt.datetime, int]:
        if not starts:
            return {}
        c = t.appointment_slots.c
        query = sa.select(c.start, c.booked).where(c.hall == self.hall, c.service == code, c.start.in_(starts))
        with self.engine.connect() as conn:
            return {row.start: row.booked for row in conn.execute(query)}

    # ---- booking -------------------------------------------------------------------------------

    def book(
        self, code: str, start: dt.datetime, raw_id_number: str, phone: str, channel: str, now: dt.datetime,
        request_key: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Take a place in a slot: 201's answer and the access key. Raises AppointmentError with why not.
        `request_key` (the request's Idempotency-Key): the same request again, after an answer the phone
        never got, answers the booking it made instead of a 409 for a booking the citizen cannot see."""
        id_hash = self.person(raw_id_number, now)
        made = self._by_request(request_key, id_hash)
        if made is not None:
            return made
        slot = self._open_slot(code, start, now)
        self._check_not_blocked(id_hash, now)
        try:
            with self.engine.begin() as conn:
                return self._take_place(conn, code, slot, id_hash, mask_phone(phone), channel, now, request_key)
        except AppointmentError:
            made = self._by_request(request_key, id_hash)  # the same key racing itself: the one made
            if made is None:
                raise
            return made

    def _by_request(self, request_key: str | None, id_hash: str) -> dict[str, Any] | None:
        if request_key is None:
            return None
        c = t.appointments.c
        query = t.appointments.select().where(c.hall == self.hall, c.request_key == request_key, c.id_hash == id_hash)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return {**row._asdict(), "start": self._local(row.start), "end": self._local(row.end)}

    def person(self, raw_id_number: str, now: dt.datetime) -> str:
        """The ID number checked like a card read (GB 11643 check digit, a real birth date): its HMAC."""
        try:
            card = pii.check_id_card(raw_id_number, None, self.local_date(now))
        except pii.InvalidIdCard as exc:  # typed on a phone, not read from a card
            raise pii.InvalidIdCard(str(exc).replace("请重新读卡", "请核对后重新填写")) from None
        return pii.id_hash(self.hmac_key, card.number)

    def _open_slot(self, code: str, start: dt.datetime, now: dt.datetime) -> Slot:
        service = self.service(code)
        self.check_bookable_day(self.local_date(start), now)
        slot = find_slot(self.config, service, start)
        if slot is None:
            raise BadBooking(
                "该时间不是可预约的时段，请从时段列表中选择。"
                " No slot starts at that time; pick one from the slots list."
            )
        if slot.start <= now:
            raise AppointmentError("该时段已开始，不能再预约。 This slot has already started.")
        if slot.capacity < 1:
            raise SlotFull(slot.start)
        return slot

    def _take_place(
        self, conn: Connection, code: str, slot: Slot, id_hash: str, masked_phone: str, channel: str,
        now: dt.datetime, request_key: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """In the caller's transaction: the counter first (a write, so the lock is held from here on),
        then the booking row; a second standing booking of the person that day is refused by its key."""
        c = t.appointment_slots.c
        key = {"hall": self.hall, "service": code, "start": slot.start}
        insert = _dialect_insert(conn.dialect.name)(t.appointment_slots).values(**key, booked=0)
        conn.execute(insert.on_conflict_do_nothing(index_elements=["hall", "service", "start"]))
        taken = conn.execute(
            t.appointment_slots.update()
            .where(c.hall == self.hall, c.service == code, c.start == slot.start, c.booked < slot.capacity)
            .values(booked=c.booked + 1)
        )
        if taken.rowcount != 1:
            raise SlotFull(slot.start)
        day = self.local_date(slot.start)
        row = {
            "hall": self.hall,
            "id": secrets.token_hex(8),
            "code": new_code(),
            "access": secrets.token_urlsafe(12),
            "service": code,
            "day": day,
            "start": slot.start.astimezone(dt.UTC),
            "end": slot.end.astimezone(dt.UTC),
            "status": Status.booked.value,
            "id_hash": id_hash,
            "masked_phone": masked_phone,
            "active_key": f"{id_hash}:{code}:{day.isoformat()}",
            "channel": channel,
            "ticket_id": None,
            "request_key": request_key,
            "created_at": now,
            "updated_at": now,
        }
        if self._standing(conn, str(row["active_key"])):
            raise self._one_a_day(code)
        try:
            with conn.begin_nested():
                conn.execute(t.appointments.insert().values(**row))
        except IntegrityError:  # the same person booking the same day in parallel
            raise self._one_a_day(code) from None
        return {**row, "start": slot.start, "end": slot.end}  # answered in the hall's local time

    def _standing(self, conn: Connection, active_key: str) -> bool:
        c = t.appointments.c
        query = sa.select(c.id).where(c.hall == self.hall, c.active_key == active_key)
        return conn.execute(query).first() is not None

    def _one_a_day(self, code: str) -> AppointmentError:
        return AppointmentError(
            f"您当天已预约过「{self.service(code).name}」，同一业务每天只能预约一次；如需改时间请先取消或改约。"
            " You already have a booking for this service that day."
        )

    def _check_not_blocked(self, id_hash: str, now: dt.datetime) -> None:
        """爽约: `missed` bookings not checked in within `within_days` → no booking for `block_days`."""
        rule = self.rules.no_show_block
        c = t.appointments.c
        since = now - dt.timedelta(days=rule.within_days)
        query = (
            sa.select(c.end)
            .where(c.hall == self.hall, c.id_hash == id_hash, c.status == Status.booked.value)
            .where(c.start >= since, c.end < now - self.margins.late)
            .order_by(c.end.desc())
        )
        with self.engine.connect() as conn:
            missed = [row.end for row in conn.execute(query)]
        if len(missed) < rule.missed:
            return
        until = missed[0] + self.margins.late + dt.timedelta(days=rule.block_days)
        if now < until:
            raise AppointmentError(
                f"您在{rule.within_days}天内已有{len(missed)}次预约未到（爽约），"
                f"{self.local_date(until):%Y年%m月%d日}前不能预约，请到大厅现场取号。"
                f" Missed {len(missed)} bookings in {rule.within_days} days: no booking until {self.local_date(until)}."
            )

    # ---- reading, cancelling, rescheduling -------------------------------------------------------

    def _row(self, conn: Connection, appointment_id: str) -> Any:
        c = t.appointments.c
        row = conn.execute(t.appointments.select().where(c.hall == self.hall, c.id == appointment_id)).first()
        if row is None:
            raise AppointmentNotFound("没有这个预约。 No such booking.")
        return row

    def check_access(self, appointment_id: str, access: str | None) -> None:
        """The citizen's key `k` from the booking's answer or QR (staff and kiosks skip this)."""
        with self.engine.connect() as conn:
            row = self._row(conn, appointment_id)
        if access is None or not secrets.compare_digest(access, row.access):
            raise AppointmentNotFound("没有这个预约，或链接不完整。 No such booking, or the link is incomplete.")

    def view(self, appointment_id: str, now: dt.datetime) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = self._row(conn, appointment_id)
        return self._view(row, now)

    def _view(self, row: Any, now: dt.datetime) -> dict[str, Any]:
        status = effective_status(row.status, row.end, self.margins, now)
        start, end = self._local(row.start), self._local(row.end)
        return {
            "id": row.id,
            "code": row.code,
            "service": row.service,
            "service_name": self.service(row.service).name,
            "start": start,
            "end": end,
            "status": status.value,
            "status_label": STATUS_LABELS[status],
            "masked_phone": row.masked_phone,
            "check_in_from": start - self.margins.early,
            "check_in_until": start + self.margins.late,
            "ticket_id": row.ticket_id,
            "hall_name": self.config.hall.name,
            "hall_address": self.config.hall.address,
        }

    def cancel(self, appointment_id: str, now: dt.datetime) -> dict[str, Any]:
        with self.engine.begin() as conn:
            row = self._row(conn, appointment_id)
            self._release(conn, row, now)
            return self._view(self._row(conn, appointment_id), now)

    def _release(self, conn: Connection, row: Any, now: dt.datetime) -> None:
        """Cancel a standing booking and give its place back, guarded by the status it read."""
        status = effective_status(row.status, row.end, self.margins, now)
        if status == Status.booked and row.start <= now:
            raise AppointmentError("预约时段已开始，不能取消或改约；请按时到大厅签到。 The slot has started.")
        new = next_status(status, Action.cancel)
        a, s = t.appointments.c, t.appointment_slots.c
        done = conn.execute(
            t.appointments.update()
            .where(a.hall == self.hall, a.id == row.id, a.status == row.status)
            .values(status=new.value, active_key=None, updated_at=now)
        )
        if done.rowcount != 1:
            raise AppointmentError("预约状态已变化，请刷新后再试。 The booking changed meanwhile; reload it.")
        conn.execute(
            t.appointment_slots.update()
            .where(s.hall == self.hall, s.service == row.service, s.start == row.start)
            .values(booked=s.booked - 1)
        )

    def reschedule(self, appointment_id: str, start: dt.datetime, now: dt.datetime) -> dict[str, Any]:
        """改约: cancel and book the new slot in one transaction; either both happen or neither does."""
        with self.engine.connect() as conn:
            old = self._row(conn, appointment_id)
        slot = self._open_slot(old.service, start, now)
        with self.engine.begin() as conn:
            old = self._row(conn, appointment_id)
            self._release(conn, old, now)
            return self._take_place(conn, old.service, slot, old.id_hash, old.masked_phone, old.channel, now)

    # ---- check-in ------------------------------------------------------------------------------

    def by_code(self, code: str) -> str:
        c = t.appointments.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(c.id).where(c.hall == self.hall, c.code == code.strip())).first()
        if row is None:
            raise AppointmentNotFound(f"没有预约码为 {code} 的预约。 No booking has the code {code}.")
        return str(row.id)

    def todays_booking(self, id_hash: str, now: dt.datetime) -> str:
        """The person's booking today that can still be checked in, the nearest start first."""
        c = t.appointments.c
        query = sa.select(c.id, c.start, c.end).where(
            c.hall == self.hall, c.id_hash == id_hash, c.day == self.local_date(now), c.status == Status.booked.value
        )
        with self.engine.connect() as conn:
            rows = [r for r in conn.execute(query) if r.end + self.margins.late >= now]
        if not rows:
            raise AppointmentNotFound("未找到您今天可签到的预约。 No booking today for this ID card.")
        return str(min(rows, key=lambda r: abs(r.start - now)).id)

    def claim(self, appointment_id: str, now: dt.datetime) -> tuple[Claimed, bool]:
        """Mark the booking checked in (a guarded UPDATE: two kiosks cannot both take it) and say whether
        the citizen is on time. Raises with the time to come back when it is too early.

        A booking checked in whose ticket was never tied to it (the dispatcher stopped in between) is
        taken again: its ticket is issued under the booking's idempotency key, so it is issued once."""
        with self.engine.begin() as conn:
            row = self._row(conn, appointment_id)
            when = arrival(row.start, self.margins, now)
            if not (row.status == Status.checked_in.value and row.ticket_id is None):
                next_status(effective_status(row.status, row.end, self.margins, now), Action.check_in)
                if when == Arrival.early:
                    raise self._too_early(row.start)
                self._mark_checked_in(conn, row.id, now)
        claimed = Claimed(row.id, row.code, row.service, row.start, row.end, row.id_hash)
        return claimed, when == Arrival.on_time

    def _too_early(self, start: dt.datetime) -> AppointmentError:
        opens, begins = self._local(start - self.margins.early), self._local(start)
        return AppointmentError(
            f"签到时间未到，请于 {opens:%H:%M} 后再来签到（预约时段 {begins:%H:%M} 开始）。"
            f" Too early: check in from {opens:%H:%M}."
        )

    def _mark_checked_in(self, conn: Connection, appointment_id: str, now: dt.datetime) -> None:
        c = t.appointments.c
        done = conn.execute(
            t.appointments.update()
            .where(c.hall == self.hall, c.id == appointment_id, c.status == Status.booked.value)
            .values(status=Status.checked_in.value, updated_at=now)
        )
        if done.rowcount != 1:
            raise AppointmentError("该预约已签到。 This booking is already checked in.")

    def attach_ticket(self, appointment_id: str, ticket_id: str, now: dt.datetime) -> None:
        c = t.appointments.c
        with self.engine.begin() as conn:
            conn.execute(
                t.appointments.update()
                .where(c.hall == self.hall, c.id == appointment_id)
                .values(ticket_id=ticket_id, updated_at=now)
            )

    def unclaim(self, appointment_id: str, now: dt.datetime) -> None:
        """The ticket could not be issued (hall closed, quota): the booking stands again."""
        c = t.appointments.c
        with self.engine.begin() as conn:
            conn.execute(
                t.appointments.update()
                .where(c.hall == self.hall, c.id == appointment_id, c.status == Status.checked_in.value)
                .where(c.ticket_id.is_(None))
                .values(status=Status.booked.value, updated_at=now)
            )

    # ---- the office's list -----------------------------------------------------------------------

    def day_list(self, day: dt.date, now: dt.datetime) -> list[dict[str, Any]]:
        c = t.appointments.c
        query = t.appointments.select().where(c.hall == self.hall, c.day == day).order_by(c.start, c.created_at)
        with self.engine.connect() as conn:
            return [self._view(row, now) for row in conn.execute(query)]

"""The hub's register of halls (`hub_halls`): adding a hall with its uplink token, finding a hall by
its token, listing the halls, keeping the profile a hall sends. Blocking SQL: call from a thread."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hallq.config import HallKind
from hallq.network_models import HallProfile
from server.network.tables import hub_halls
from server.store.database import utcnow

log = logging.getLogger(__name__)
HALL_ID = r"^[a-z0-9][a-z0-9_-]{0,31}$"  # as hallq.config.Hall.id


class RegistryError(ValueError):
    """A registration the hub refuses (unknown parent, a circle, a bad kind): the sentence says why."""


class ProfileRefused(ValueError):
    """A hall's profile that contradicts its registration (409)."""


@dataclass(frozen=True)
class RegisteredHall:
    hall: str
    name: str
    kind: str
    parent: str | None
    timezone: str
    acked_seq: int
    last_event_at: dt.datetime | None
    last_contact_at: dt.datetime | None
    profile: HallProfile | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _registered(row: Any) -> RegisteredHall:
    return RegisteredHall(
        hall=row.hall,
        name=row.name,
        kind=row.kind,
        parent=row.parent,
        timezone=row.timezone,
        acked_seq=int(row.acked_seq),
        last_event_at=row.last_event_at,
        last_contact_at=row.last_contact_at,
        profile=HallProfile.model_validate(row.profile) if row.profile else None,
    )


class HallRegistry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, hall: str, *, name: str, kind: str, parent: str | None, timezone: str, token_sha256: str
    ) -> RegisteredHall:
        """Register a hall, or re-register it (new name, kind, parent or token; its events stay)."""
        _check_fields(hall, name, kind, timezone)
        now = utcnow()
        with self.engine.begin() as conn:
            parents = dict(conn.execute(sa.select(hub_halls.c.hall, hub_halls.c.parent)).all())
            _check_parent(hall, parent, parents)
            exists = hall in parents
            values = {"name": name, "kind": kind, "parent": parent, "timezone": timezone,
                      "token_sha256": token_sha256, "updated_at": now}  # fmt: skip
            if exists:
                conn.execute(hub_halls.update().where(hub_halls.c.hall == hall).values(**values))
            else:
                conn.execute(hub_halls.insert().values(hall=hall, created_at=now, **values))
        found = self.get(hall)
        assert found is not None
        return found

    def get(self, hall: str) -> RegisteredHall | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(hub_halls).where(hub_halls.c.hall == hall)).first()
        return _registered(row) if row else None

    def by_token(self, token_sha256: str) -> RegisteredHall | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(hub_halls).where(hub_halls.c.token_sha256 == token_sha256)).first()
        return _registered(row) if row else None

    def all(self) -> list[RegisteredHall]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(hub_halls).order_by(hub_halls.c.hall)).all()
        return [_registered(row) for row in rows]

    def save_profile(self, hall: RegisteredHall, profile: HallProfile) -> None:
        """Keep what the hall says about itself. Its days are counted in the time zone it was
        registered with: a profile in another zone is refused rather than folded differently."""
        if profile.timezone != hall.timezone:
            raise ProfileRefused(
                f"大厅 {hall.hall} 登记的时区为 {hall.timezone}，配置为 {profile.timezone}。 The hall was registered "
                f"with time zone {hall.timezone} but its config says {profile.timezone}: register it again "
                "(hallq hub add-hall … --timezone) or fix the config."
            )
        if (profile.kind, profile.parent) != (hall.kind, hall.parent):
            log.warning(
                "hall %s: its config says %s under %s, the register %s under %s; the register counts",
                hall.hall, profile.kind, profile.parent or "-", hall.kind, hall.parent or "-",
            )  # fmt: skip
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                hub_halls.update()
                .where(hub_halls.c.hall == hall.hall)
                .values(profile=profile.model_dump(mode="json"), last_contact_at=now, updated_at=now)
            )


def _check_fields(hall: str, name: str, kind: str, timezone: str) -> None:
    problems = []
    if not re.match(HALL_ID, hall):
        problems.append(f"hall id {hall!r}: lower-case letters, digits, - and _ (at most 32), as in the hall config")
    if not 1 <= len(name) <= 40:
        problems.append("name: 1 to 40 characters")
    if kind not in {k.value for k in HallKind}:
        problems.append(f"kind {kind!r}: one of {', '.join(k.value for k in HallKind)}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown time zone {timezone!r}")
    if problems:
        raise RegistryError("; ".join(problems))


def _check_parent(hall: str, parent: str | None, parents: dict[str, str | None]) -> None:
    """The parent must be registered already, and the tree may not turn into a circle."""
    if parent is None:
        return
    if parent not in parents:
        raise RegistryError(f"parent {parent!r} is not registered: add it first (hallq hub add-hall {parent} …)")
    seen = {hall}
    step: str | None = parent
    while step is not None:
        if step in seen:
            raise RegistryError(f"parent {parent!r} would make a circle: {hall} is above it")
        seen.add(step)
        step = parents.get(step)
